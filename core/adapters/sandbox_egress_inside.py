"""Runs INSIDE the local sandbox (stdlib only, started with /usr/bin/python3 -I -S): the command's way out.

Usage: egress.py SOCKET PORT COMMAND [ARG...]

An isolated sandbox's command has its own network namespace: nothing outside is reachable. This script
listens on 127.0.0.1:PORT in that namespace (where HTTP_PROXY and friends point), starts COMMAND, pipes
every connection to SOCKET (the host's egress proxy socket, bind-mounted into the sandbox) and exits with
COMMAND's exit code; bubblewrap's pid namespace ends whatever is left. The host decides what passes.

It wraps every isolated command, so it starts light: one thread and a selector (pidfd for the child's
exit) rather than asyncio, whose import alone costs more than the rest of the sandbox's start.
"""

import os
import selectors
import socket
import sys

CHUNK = 65536
READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class Pipe:
    """One direction of a connection: bytes read from src wait in buf until dst takes them."""

    def __init__(self, src: socket.socket, dst: socket.socket) -> None:
        self.src, self.dst = src, dst
        self.buf = b''
        self.eof = False
        self.shut = False


class Conn:
    def __init__(self, sel: selectors.BaseSelector, client: socket.socket, upstream: socket.socket) -> None:
        self.sel = sel
        self.socks = (client, upstream)
        self.pipes = (Pipe(client, upstream), Pipe(upstream, client))
        self.registered: dict[socket.socket, int] = {}
        self.update()

    def events(self, sock: socket.socket) -> int:
        wanted = 0
        for pipe in self.pipes:
            if pipe.src is sock and not pipe.eof and not pipe.buf:
                wanted |= READ
            if pipe.dst is sock and pipe.buf:
                wanted |= WRITE
        return wanted

    def update(self) -> None:
        for sock in self.socks:
            wanted, had = self.events(sock), self.registered.get(sock, 0)
            if wanted == had:
                continue
            if not had:
                self.sel.register(sock, wanted, self)
            elif not wanted:
                self.sel.unregister(sock)
            else:
                self.sel.modify(sock, wanted, self)
            self.registered[sock] = wanted

    def step(self, sock: socket.socket, mask: int) -> None:
        for pipe in self.pipes:
            try:
                if pipe.src is sock and mask & READ and not pipe.eof and not pipe.buf:
                    data = sock.recv(CHUNK)
                    pipe.buf, pipe.eof = data, not data
                if pipe.buf:
                    pipe.buf = pipe.buf[pipe.dst.send(pipe.buf) :]
                if pipe.eof and not pipe.shut:  # eof comes with an empty buffer
                    pipe.dst.shutdown(socket.SHUT_WR)
                    pipe.shut = True
            except BlockingIOError:
                continue  # level-triggered: the selector reports it again
            except OSError:
                self.close()
                return
        if all(pipe.shut for pipe in self.pipes):
            self.close()
        else:
            self.update()

    def close(self) -> None:
        for sock in self.socks:
            if self.registered.pop(sock, 0):
                self.sel.unregister(sock)
            sock.close()


def accept(sel: selectors.BaseSelector, listener: socket.socket, sock_path: str) -> None:
    try:
        client, _ = listener.accept()
    except OSError:
        return
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(sock_path)  # a local socket: immediate
    except OSError:  # the host side is gone: the client sees a closed connection
        upstream.close()
        client.close()
        return
    client.setblocking(False)
    upstream.setblocking(False)
    Conn(sel, client, upstream)


def exit_fd(pid: int) -> int:
    """A descriptor that becomes readable when the child exits (a pidfd, or a pipe fed by a thread)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        import threading

        read_end, write_end = os.pipe()

        def wait() -> None:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # leaves the child for waitpid below
            os.write(write_end, b'x')

        threading.Thread(target=wait, daemon=True).start()
        return read_end


def main(sock_path: str, port: int, argv: list[str]) -> int:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('127.0.0.1', port))
    listener.listen(128)  # before COMMAND starts: its first request waits in the backlog
    listener.setblocking(False)
    pid = os.posix_spawn(argv[0], argv, dict(os.environ))
    sel = selectors.DefaultSelector()
    sel.register(listener, READ, 'accept')
    sel.register(exit_fd(pid), READ, 'exit')
    while True:
        for key, mask in sel.select():
            if key.data == 'exit':
                _, status = os.waitpid(pid, 0)
                code = os.waitstatus_to_exitcode(status)
                return code if code >= 0 else 128 - code  # killed by signal N → 128+N, like a shell
            if key.data == 'accept':
                accept(sel, listener, sock_path)
            else:
                key.data.step(key.fileobj, mask)


if __name__ == '__main__':
    if len(sys.argv) < 4:
        sys.exit('usage: egress.py SOCKET PORT COMMAND [ARG...]')
    os._exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
