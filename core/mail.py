"""Sending one plain-text mail through the configured SMTP server (password reset links, J-1).

The standard library's smtplib blocks, so each mail is sent in a thread (`asyncio.to_thread`). Port 465 is
TLS from the first byte; on any other port the connection is upgraded with STARTTLS whenever the server offers
it, and a password is never sent over a connection left in plain text to a host other than this machine.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from core.config import Settings

TIMEOUT_S = 20.0
LOOPBACK = frozenset({'localhost', '127.0.0.1', '::1'})


class MailError(Exception):
    """The mail could not be handed to the server (technical: logged, never shown to a founder as is)."""


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    sender: str
    public_url: str  # the app's address as founders reach it: the base of every link in a mail
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MailServer | None:
        """The server when mail is configured (SMTP_HOST and PUBLIC_URL), else None."""
        if not settings.SMTP_HOST or not settings.PUBLIC_URL:
            return None
        public_url = settings.PUBLIC_URL.rstrip('/')
        sender = settings.SMTP_FROM or settings.SMTP_USER or f'no-reply@{urlsplit(public_url).hostname or "localhost"}'
        password = settings.SMTP_PASSWORD.get_secret_value() if settings.SMTP_PASSWORD else None
        return cls(settings.SMTP_HOST, settings.SMTP_PORT, sender, public_url, settings.SMTP_USER or None, password)

    def link(self, path: str) -> str:
        return f'{self.public_url}{path}'


def message(server: MailServer, *, to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail['From'] = server.sender
    mail['To'] = to
    mail['Subject'] = subject
    mail['Date'] = formatdate(localtime=False)
    mail['Message-ID'] = make_msgid(domain=urlsplit(server.public_url).hostname or None)
    mail.set_content(body)
    return mail


async def send(server: MailServer, *, to: str, subject: str, body: str) -> None:
    """Hand one mail to the server; MailError when it refuses or cannot be reached."""
    await asyncio.to_thread(_send_sync, server, message(server, to=to, subject=subject, body=body))


def _send_sync(server: MailServer, mail: EmailMessage) -> None:
    try:
        if server.port == 465:
            with smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_S,
                                  context=ssl.create_default_context()) as smtp:  # fmt: skip
                _deliver(smtp, server, mail, encrypted=True)
            return
        with smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S) as smtp:
            smtp.ehlo()
            encrypted = smtp.has_extn('starttls')
            if encrypted:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            _deliver(smtp, server, mail, encrypted=encrypted)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f'mail to {mail["To"]} via {server.host}:{server.port} failed: {error}') from error


def _deliver(smtp: smtplib.SMTP, server: MailServer, mail: EmailMessage, *, encrypted: bool) -> None:
    if server.user and server.password:
        if not encrypted and server.host not in LOOPBACK:
            raise MailError(f'{server.host} offers no STARTTLS: not sending the SMTP password in plain text')
        smtp.login(server.user, server.password)
    smtp.send_message(mail)
