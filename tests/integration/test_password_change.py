"""J-1: a founder changes their password (the current one required, the strength rules of sign-up), and with a
mail server configured asks for a reset link by mail. On SQLite and Postgres; the mail goes to a real SMTP
server at the network edge (tests/fakes/smtp_sink.py) through smtplib."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core import accounts, login_throttle, password_reset
from core.budget import ensure_default_tiers
from core.config import Settings
from core.db import SessionFactory
from core.errors import InvalidInput
from core.mail import MailServer
from core.models import PasswordReset, User, utcnow
from tests.fakes.smtp_sink import SmtpSink

OLD = 'correct horse battery'
NEW = 'a brand new passphrase 42'


async def founder(sessions: SessionFactory, email: str = 'ada@example.com') -> User:
    async with sessions() as session:
        await ensure_default_tiers(session)
        return await accounts.sign_up(session, email=email, password=OLD)


async def logs_in(sessions: SessionFactory, password: str, email: str = 'ada@example.com') -> bool:
    try:
        async with sessions() as session:
            await accounts.log_in(session, email=email, password=password)
    except InvalidInput:
        return False
    return True


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    server = await SmtpSink().start()
    yield server
    await server.close()


def mail_settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', **values)  # type: ignore[arg-type]


@pytest.fixture
def server(sink: SmtpSink, tmp_path: Path) -> MailServer:
    settings = mail_settings(tmp_path, SMTP_HOST=sink.host, SMTP_PORT=sink.port, PUBLIC_URL='https://cf.example.com/')
    configured = MailServer.from_settings(settings)
    assert configured is not None
    return configured


async def test_the_password_changes_only_with_the_current_one(session_factory: SessionFactory) -> None:
    ada = await founder(session_factory)
    async with session_factory() as session:
        with pytest.raises(InvalidInput, match='current password is not right'):
            await accounts.change_password(session, user=ada, current='not my password', new=NEW)
    async with session_factory() as session:
        await accounts.change_password(session, user=ada, current=OLD, new=NEW)
    assert await logs_in(session_factory, NEW)
    assert not await logs_in(session_factory, OLD)


async def test_the_new_password_follows_the_sign_up_rules(session_factory: SessionFactory) -> None:
    ada = await founder(session_factory)
    for weak, reason in (
        ('short', 'at least 10 characters'),
        ('password123', 'too easy to guess'),
        (OLD, 'different from the current one'),
    ):
        async with session_factory() as session:
            with pytest.raises(InvalidInput, match=reason):
                await accounts.change_password(session, user=ada, current=OLD, new=weak)
    assert await logs_in(session_factory, OLD)


async def test_guessing_the_current_password_is_throttled_like_logging_in(session_factory: SessionFactory) -> None:
    ada = await founder(session_factory)
    for _ in range(login_throttle.FREE_FAILURES + 1):
        async with session_factory() as session:
            with pytest.raises(InvalidInput, match='not right'):
                await accounts.change_password(
                    session, user=ada, current='guess guess guess', new=NEW, address='9.9.9.9'
                )
    async with session_factory() as session:
        with pytest.raises(login_throttle.TooManyAttempts):  # even the right one waits now
            await accounts.change_password(session, user=ada, current=OLD, new=NEW, address='9.9.9.9')


async def test_a_change_retires_unused_reset_links(session_factory: SessionFactory) -> None:
    admin = await founder(session_factory, 'admin@example.com')  # the first account is the admin
    ada = await founder(session_factory)
    async with session_factory() as session:
        link = await password_reset.issue(session, actor=admin, user_id=ada.id)
    async with session_factory() as session:
        await accounts.change_password(session, user=ada, current=OLD, new=NEW)
    async with session_factory() as session:
        with pytest.raises(InvalidInput, match='not valid any more'):
            await password_reset.user_for(session, link.token)


def test_mail_is_off_until_a_server_and_the_public_address_are_set(tmp_path: Path) -> None:
    assert MailServer.from_settings(mail_settings(tmp_path)) is None
    assert MailServer.from_settings(mail_settings(tmp_path, SMTP_HOST='mail.example.com')) is None
    server = MailServer.from_settings(
        mail_settings(tmp_path, SMTP_HOST='mail.example.com', PUBLIC_URL='https://cf.example.com/')
    )
    assert server is not None and server.port == 587 and server.sender == 'no-reply@cf.example.com'
    assert server.link('/reset/abc') == 'https://cf.example.com/reset/abc'


async def test_a_mailed_link_resets_the_password_once(
    session_factory: SessionFactory, sink: SmtpSink, server: MailServer
) -> None:
    await founder(session_factory)
    async with session_factory() as session:
        assert await password_reset.mail_link(session, email='  Ada@Example.com ', server=server)
    [mail] = await sink.wait_for(1)
    assert mail.recipients == ['ada@example.com'] and mail.sender == 'no-reply@cf.example.com'
    assert mail.message()['Subject'] == 'Reset your Cofounder password'
    link = next(line for line in mail.body().splitlines() if line.startswith('https://cf.example.com/reset/'))
    token = link.rsplit('/', 1)[1]
    async with session_factory() as session:
        await password_reset.reset(session, token=token, password=NEW)
    assert await logs_in(session_factory, NEW)
    async with session_factory() as session:
        with pytest.raises(InvalidInput, match='not valid any more'):
            await password_reset.reset(session, token=token, password='yet another passphrase 7')


async def test_unknown_suspended_and_repeated_requests_send_nothing(
    session_factory: SessionFactory, sink: SmtpSink, server: MailServer
) -> None:
    ada = await founder(session_factory)
    await founder(session_factory, 'eve@example.com')
    async with session_factory() as session:
        eve = await session.get(User, (await accounts.log_in(session, email='eve@example.com', password=OLD)).id)
        assert eve is not None
        eve.suspended = True
        await session.commit()
    now = utcnow()
    async with session_factory() as session:
        assert not await password_reset.mail_link(session, email='nobody@example.com', server=server)
        assert not await password_reset.mail_link(session, email='eve@example.com', server=server)
        assert await password_reset.mail_link(session, email='ada@example.com', server=server, now=now)
        # a second ask within MAIL_EVERY sends nothing (so the form cannot flood a mailbox) …
        assert not await password_reset.mail_link(session, email='ada@example.com', server=server, now=now)
        # … a later one does, and retires the first link
        later = now + password_reset.MAIL_EVERY + timedelta(seconds=1)
        assert await password_reset.mail_link(session, email='ada@example.com', server=server, now=later)
    mails = await sink.wait_for(2)
    assert [m.recipients for m in mails] == [['ada@example.com'], ['ada@example.com']]
    async with session_factory() as session:
        links = (await session.exec(PasswordReset.__table__.select())).all()  # type: ignore[attr-defined,call-overload]
    assert len(links) == 2 and all(link.user_id == ada.id for link in links)
    assert sum(link.used_at is None for link in links) == 1


async def test_a_server_that_cannot_be_reached_sends_nothing_and_raises_nothing(
    session_factory: SessionFactory, sink: SmtpSink, server: MailServer
) -> None:
    await founder(session_factory)
    port = sink.port
    await sink.close()  # nothing listens there any more
    gone = MailServer(server.host, port, server.sender, server.public_url)
    async with session_factory() as session:
        assert not await password_reset.mail_link(session, email='ada@example.com', server=gone)
