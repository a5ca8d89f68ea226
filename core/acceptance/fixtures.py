"""The files an acceptance check may upload, made on the host (never read from the sandbox)."""

from __future__ import annotations

import struct
import zlib
from functools import cache


def _png(width: int = 96, height: int = 64) -> bytes:
    """A small landscape picture (sky over grass) as a valid PNG, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)

    sky, grass = b'\x5a\x9b\xd8', b'\x4c\xa0\x4a'
    rows = b''.join(b'\x00' + (sky if y < height * 2 // 3 else grass) * width for y in range(height))
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(rows, 9)) + chunk(b'IEND', b'')


def _pdf() -> bytes:
    body = b'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n'
    return body + b'trailer<</Root 1 0 R>>\n%%EOF\n'


@cache
def fixture_files() -> dict[str, tuple[bytes, str]]:
    """name → (bytes, MIME type)."""
    return {
        'photo.png': (_png(), 'image/png'),
        'document.pdf': (_pdf(), 'application/pdf'),
        'notes.txt': (b'A short note written for an acceptance check.\n', 'text/plain'),
    }


FIXTURES = frozenset(('photo.png', 'document.pdf', 'notes.txt'))
