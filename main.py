"""Cofounder: `python main.py [serve|worker|migrate|create-admin|demo]` (serve is the default)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from datetime import UTC, datetime

from core.config import Settings


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, so logs can be shipped and searched (OPS-3)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {'at': datetime.fromtimestamp(record.created, UTC).isoformat(timespec='milliseconds'),
                 'level': record.levelname, 'logger': record.name, 'message': record.getMessage()}
        if record.exc_info:
            entry['exception'] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    if settings.LOG_JSON:
        handler.setFormatter(JsonLogFormatter())
    logging.basicConfig(level=settings.LOG_LEVEL.upper(), handlers=[handler], force=True)


def migrate(settings: Settings) -> None:
    from migrations import upgrade

    upgrade(settings.sync_database_url)


def serve(settings: Settings) -> None:
    """Migrate if needed, then serve the web app (with the in-process worker and scheduler)."""
    os.environ.setdefault('NICEGUI_STORAGE_PATH', str(settings.data_dir / 'sessions'))
    migrate(settings)
    from nicegui import app, ui

    from core.services import build_services
    from ui import register_pages

    services = build_services(settings)
    register_pages(services)
    app.on_startup(services.start)
    app.on_shutdown(services.close)
    ui.run(host=settings.HOST, port=settings.PORT, title='Cofounder', reload=False, show=False,
           storage_secret=settings.storage_secret(), favicon='🚀', uvicorn_logging_level='warning')


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
    admin = sub.add_parser('create-admin', help='create or promote an administrator')
    admin.add_argument('--email', required=True)
    admin.add_argument('--password', help='prompted for when omitted (or ADMIN_PASSWORD)')
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
    else:
        serve(settings)
    return 0


if __name__ in {'__main__', '__mp_main__'}:
    if os.environ.get('NICEGUI_USER_SIMULATION'):  # pytest's `user` fixture runs this file as __main__
        serve(Settings())
    else:
        sys.exit(main())
