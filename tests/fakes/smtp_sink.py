"""A tiny SMTP server at the network edge: speaks enough of RFC 5321 for smtplib (EHLO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT), offers no STARTTLS and no AUTH, and keeps every message it accepts. Standard library only (asyncio):
`smtpd` is gone from Python 3.12 and aiosmtpd is not a dependency."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def body(self) -> str:
        part = self.message().get_body(preferencelist=('plain',))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class SmtpSink:
    host: str = '127.0.0.1'
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> SmtpSink:
        self._server = await asyncio.start_server(self._session, self.host, 0)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The messages once at least `count` arrived (a mail sent in the background takes a moment)."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return list(self.received)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender, recipients = '', []

        async def reply(line: str) -> None:
            writer.write(line.encode() + b'\r\n')
            await writer.drain()

        await reply('220 sink ESMTP ready')
        try:
            while line := await reader.readline():
                verb, _, rest = line.decode(errors='replace').rstrip('\r\n').partition(' ')
                verb = verb.upper()
                if verb == 'EHLO':
                    await reply('250-sink greets you\r\n250 8BITMIME')
                elif verb == 'HELO':
                    await reply('250 sink')
                elif verb == 'MAIL':
                    sender, recipients = _address(rest), []
                    await reply('250 OK')
                elif verb == 'RCPT':
                    recipients.append(_address(rest))
                    await reply('250 OK')
                elif verb == 'DATA':
                    await reply('354 End data with <CR><LF>.<CR><LF>')
                    data = await _data(reader)
                    async with self._arrived:
                        self.received.append(Received(sender, recipients, data))
                        self._arrived.notify_all()
                    await reply('250 OK: queued')
                elif verb in ('RSET', 'NOOP'):
                    await reply('250 OK')
                elif verb == 'QUIT':
                    await reply('221 Bye')
                    break
                else:
                    await reply('502 Command not implemented')
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _address(argument: str) -> str:
    return argument.partition(':')[2].strip().split(' ')[0].strip('<>')


async def _data(reader: asyncio.StreamReader) -> bytes:
    lines = []
    while (line := await reader.readline()) not in (b'.\r\n', b'.\n', b''):
        lines.append(line[1:] if line.startswith(b'..') else line)  # undo dot-stuffing
    return b''.join(lines)
