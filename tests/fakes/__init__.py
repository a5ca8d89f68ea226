"""Hand-written fakes at the network edge: real HTTP servers on 127.0.0.1 that speak a provider's protocol.

`ScriptedServer` is the shared machinery: a threaded HTTP/1.1 server on a free port that records every
request and answers each one with the next scripted `Step`. Responses that stream use chunked transfer
encoding (as the real APIs do), so a connection closed before the final chunk is a genuine dropped stream
for the client, not a short but complete body.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Recorded:
    """One request as the server received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class Responder:
    """What a step uses to answer: plain JSON, a chunked stream, or a hang-up."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._h = handler

    def json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._h.send_response(status)
        self._h.send_header('Content-Type', 'application/json')
        self._h.send_header('Content-Length', str(len(data)))
        for name, value in (headers or {}).items():
            self._h.send_header(name, value)
        self._h.end_headers()
        self._h.wfile.write(data)
        self._h.wfile.flush()

    def start_stream(self, content_type: str = 'text/event-stream') -> None:
        self._h.send_response(200)
        self._h.send_header('Content-Type', content_type)
        self._h.send_header('Cache-Control', 'no-cache')
        self._h.send_header('Transfer-Encoding', 'chunked')
        self._h.end_headers()
        self._h.wfile.flush()

    def chunk(self, text: str) -> None:
        data = text.encode()
        self._h.wfile.write(f'{len(data):x}\r\n'.encode() + data + b'\r\n')
        self._h.wfile.flush()

    def end_stream(self) -> None:
        self._h.wfile.write(b'0\r\n\r\n')
        self._h.wfile.flush()

    def hang_up(self) -> None:
        """Close the socket at once: mid-stream this is a dropped connection, before a status line a reset."""
        self._h.close_connection = True
        self._h.wfile.flush()
        try:
            self._h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


Step = Callable[[Responder, Recorded], None]


class _QuietServer(ThreadingHTTPServer):
    """Scripted hang-ups and dropped streams are the point of these servers: don't print them."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass


class ScriptedServer:
    """A threaded HTTP server replying to POSTs from a queue of steps; use as a context manager.

    Subclasses pass `routes`: path → handler(server, responder, recorded).
    """

    def __init__(self, routes: dict[str, Callable[[Any, Responder, Recorded], None]]) -> None:
        self.routes = routes
        self.requests: list[Recorded] = []
        self._queue: deque[Step] = deque()
        self._lock = threading.Lock()
        self._httpd: _QuietServer | None = None

    # ── scripting ──
    def script(self, *steps: Step) -> Self:
        """Queue responses; each request consumes the next one."""
        with self._lock:
            self._queue.extend(steps)
        return self

    def next_step(self) -> Step | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    @property
    def pending(self) -> int:
        """Scripted steps not consumed yet (0 once a test has used all it scripted)."""
        with self._lock:
            return len(self._queue)

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # ── lifecycle ──
    @property
    def url(self) -> str:
        assert self._httpd is not None, 'server not started'
        host, port = self._httpd.server_address[:2]
        return f'http://{host}:{port}'

    def __enter__(self) -> Self:
        self._httpd = _QuietServer(('127.0.0.1', 0), _make_handler(self))
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name='fake-api', daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)


def _make_handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'  # keep-alive and chunked streams, like the real APIs

        def do_POST(self) -> None:  # noqa: N802  (http.server naming)
            length = int(self.headers.get('Content-Length') or 0)
            raw = self.rfile.read(length) if length else b''
            body = json.loads(raw) if raw else {}
            path = self.path.split('?', 1)[0]
            recorded = Recorded('POST', path, {k.lower(): v for k, v in self.headers.items()}, body)
            server._record(recorded)
            route = server.routes.get(path)
            if route is None:
                Responder(self).json(404, {'error': {'type': 'not_found_error', 'message': f'no route {path}'}})
                return
            route(server, Responder(self), recorded)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep test output clean

    return Handler


def sse(event: str | None, data: Any) -> str:
    """One server-sent event; `event: None` gives a bare `data:` line (the OpenAI style)."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f'event: {event}\n' if event else ''
    return f'{head}data: {payload}\n\n'


def split_text(text: str, parts: int) -> Iterator[str]:
    """Cut text into about `parts` non-empty pieces, in order."""
    if not text:
        return
    size = max(1, -(-len(text) // max(1, parts)))
    for i in range(0, len(text), size):
        yield text[i : i + size]
