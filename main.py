"""Cofounder: `python main.py [serve|worker|migrate|create-admin|token|demo]` (serve is the default)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime

from core.config import Settings


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, so logs can be shipped and searched (OPS-3)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            'at': datetime.fromtimestamp(record.created, UTC).isoformat(timespec='milliseconds'),
            'level': record.levelname,
            'logger': record.name,
            'message': record.getMessage(),
        }
        for key in ('build_id', 'user_id'):  # bound by the work the line comes from (core/observability.py)
            if getattr(record, key, None):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry['exception'] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    from core.observability import LogContextFilter, init_sentry

    handler = logging.StreamHandler()
    handler.addFilter(LogContextFilter())
    if settings.LOG_JSON:
        handler.setFormatter(JsonLogFormatter())
    logging.basicConfig(level=settings.LOG_LEVEL.upper(), handlers=[handler], force=True)
    for chatty in ('httpx', 'alembic.runtime.plugins'):  # one line per preview request / plugin is noise
        logging.getLogger(chatty).setLevel(logging.WARNING)
    dsn = settings.SENTRY_DSN.get_secret_value() if settings.SENTRY_DSN else None
    if init_sentry(dsn, environment=settings.ENV):
        logging.getLogger('cofounder').info('errors are reported to Sentry')


def migrate(settings: Settings) -> None:
    from migrations import upgrade

    upgrade(settings.sync_database_url)


def settle_long_lived_objects() -> None:
    """Move what startup made (modules, routes, services: it lives as long as the process) out of the
    garbage collector's sight. Its full passes scanned all of it and, with many builds watched, paused
    every page's pushes (bench/README.md)."""
    gc.collect()
    gc.freeze()


def serve(settings: Settings) -> None:
    """Migrate if needed, then serve the web app (with the in-process worker)."""
    os.environ.setdefault('NICEGUI_STORAGE_PATH', str(settings.data_dir / 'sessions'))
    migrate(settings)
    from nicegui import app, ui

    from core.services import build_services
    from jobs import worker
    from ui import register_pages

    services = build_services(settings)
    register_pages(services)

    async def start_runtime() -> None:
        await services.start()
        await worker.start(services)
        settle_long_lived_objects()

    async def stop_runtime() -> None:
        await worker.stop(services)
        await services.close()

    app.on_startup(start_runtime)
    app.on_shutdown(stop_runtime)
    ui.run(
        host=settings.HOST,
        port=settings.PORT,
        title='Cofounder',
        language='en-US',  # <html lang>: the interface's language (screen readers, axe's html-has-lang)
        reload=False,
        show=False,
        storage_secret=settings.storage_secret(),
        session_middleware_kwargs={'https_only': settings.COOKIE_SECURE},  # the session cookie's `Secure`
        favicon='🚀',
        uvicorn_logging_level='warning',
    )


async def _new_token(settings: Settings, email: str, name: str) -> int:
    """Print a new API token of the account `email` (OPS-4): the only time its secret is shown."""
    from core import api_tokens
    from core.errors import CofounderError
    from core.services import build_services

    services = build_services(settings)
    try:
        async with services.sessions() as session:
            user = await api_tokens.founder_by_email(session, email)
            if user is None:
                print(f'No account with the email {email}.', file=sys.stderr)
                return 1
            try:
                new = await api_tokens.create_token(session, user=user, name=name)
            except CofounderError as problem:  # a bad name, or a suspended account
                print(problem, file=sys.stderr)
                return 1
    finally:
        await services.close()
    print(new.secret)
    return 0


async def _create_admin(settings: Settings, email: str, password: str) -> None:
    from core import accounts
    from core.services import build_services

    services = build_services(settings)
    await services.start()
    async with services.sessions() as session:
        user = await accounts.create_admin(session, email=email, password=password)
    await services.close()
    print(f'{user.email} is an administrator.')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='main.py', description=__doc__)
    sub = parser.add_subparsers(dest='command')
    sub.add_parser('serve', help='run the web app (default)')
    sub.add_parser('migrate', help='bring the database schema up to date')
    sub.add_parser('worker', help='run builds in this process (with WORKERS=external and REDIS_URL for the web app)')
    admin = sub.add_parser('create-admin', help='create or promote an administrator')
    admin.add_argument('--email', required=True)
    admin.add_argument('--password', help='prompted for when omitted (or ADMIN_PASSWORD)')
    token = sub.add_parser('token', help="print a new API token for a founder's scripts (shown once)")
    token.add_argument('--email', required=True)
    token.add_argument('--name', required=True, help='what the token is for, as listed on the account page')
    demo = sub.add_parser('demo', help='run the founder flow and a build headless with the offline model')
    demo.add_argument('--idea', required=True)
    demo.add_argument('--must-have', help='comma-separated must-have features (default: derived from the idea)')
    demo.add_argument('--json', action='store_true', help='print only the JSON summary')
    demo.add_argument('--keep', action='store_true', help='keep the preview running until Ctrl-C')
    demo.add_argument('--daily-tokens', type=int, help='pace the founder at N tokens a day: the build sleeps and wakes')
    demo.add_argument('--scenario', choices=['heal', 'escalate', 'painted-door'],
                      help='the offline model meets a failure it heals (heal) or asks about (escalate; the demo '
                      'answers with the recommended option), or writes a page that looks right and does nothing '
                      '(painted-door: its acceptance check fails and the agent fixes it)')  # fmt: skip
    demo.add_argument('--change', help='after the first version, ask for this change and build the next one')
    demo.add_argument('--day-seconds', type=int, default=5, help='with --daily-tokens: how long a pacing day lasts')
    demo.add_argument('--fast', action='store_true',
                      help='the fast path: skip the questions, assume (listed in "assumptions") and build')  # fmt: skip
    demo.add_argument(
        '--stack',
        choices=['stdlib', 'fastapi', 'vite-react'],
        default='stdlib',
        help="the chosen plan's stack (default: the Python standard library, nothing to install)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings)
    if args.command == 'migrate':
        migrate(settings)
        print('Database is up to date.')
    elif args.command == 'create-admin':
        migrate(settings)
        password = args.password or os.environ.get('ADMIN_PASSWORD') or getpass.getpass('Password: ')
        asyncio.run(_create_admin(settings, args.email, password))
    elif args.command == 'token':
        migrate(settings)
        return asyncio.run(_new_token(settings, args.email, args.name))
    elif args.command == 'worker':
        migrate(settings)
        asyncio.run(_worker(settings))
    elif args.command == 'demo':
        return asyncio.run(_demo(args))
    else:
        serve(settings)
    return 0


async def _worker(settings: Settings) -> None:
    """Claim and run queued builds until stopped; interrupted builds are re-queued at start."""
    from core.services import build_services
    from jobs import worker

    services = build_services(settings, worker_process=True)
    await services.start()
    await worker.start(services)
    settle_long_lived_objects()
    logging.getLogger('cofounder.worker').info('worker ready (%s)', services.sandboxes.isolation())
    stopping = asyncio.Event()  # SIGTERM (docker stop) stops cleanly: arq hands running builds to another worker
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        await worker.stop(services)
        await services.close()


async def _demo(args: argparse.Namespace) -> int:
    """OPS-2: offline model at full speed unless a provider or a pace is configured explicitly."""
    os.environ.setdefault('OFFLINE_PACE_SECONDS', '0')
    if args.scenario:
        os.environ['OFFLINE_SCENARIO'] = args.scenario
    settings = Settings()
    migrate(settings)
    from core.services import build_services
    from jobs.demo import run_demo

    services = build_services(settings)
    try:
        summary = await run_demo(services, idea=args.idea, must_have=args.must_have,
                                 daily_tokens=args.daily_tokens, day_seconds=args.day_seconds,
                                 change=args.change, fast=args.fast, stack=args.stack)  # fmt: skip
        print(json.dumps(summary, indent=None if args.json else 2, ensure_ascii=False))
        if args.keep and summary['preview_ok']:
            print(f'Preview running at {summary["preview_url"]} — Ctrl-C to stop.', file=sys.stderr)
            await asyncio.Event().wait()
    finally:
        await services.close()
    return 0 if summary['state'] == 'READY' else 1


if __name__ in {'__main__', '__mp_main__'}:
    if os.environ.get('NICEGUI_USER_SIMULATION'):  # pytest's `user` fixture runs this file as __main__
        serve(Settings())
    else:
        sys.exit(main())
