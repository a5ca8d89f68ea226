"""Blob storage on the local filesystem (the default for a single-machine install).

Layout under `root`: `data/<key>` holds the bytes, `meta/<key>` the content type (a one-line
sidecar, so the content type survives exactly as given), `tmp/` receives writes before they are
renamed into place, so a reader never sees half a file. Blobs are served by the app at
`url(key)`; the route calls `open(key)` for the bytes and the content type.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import uuid
from pathlib import Path

from core.blob_keys import validate_key, validate_prefix

DEFAULT_CONTENT_TYPE = 'application/octet-stream'


class FileBlobStore:
    """`BlobStore` on a directory. Extra method: `open(key) -> (bytes, content_type)`."""

    def __init__(self, root: Path, url_prefix: str = '/blobs') -> None:
        self.root = Path(root)
        self.url_prefix = url_prefix.rstrip('/')
        self._data = self.root / 'data'
        self._meta = self.root / 'meta'
        self._tmp = self.root / 'tmp'

    # ── BlobStore ─────────────────────────────────────────────────────────────────────────────

    async def put(self, key: str, data: bytes, *, content_type: str) -> str:
        validate_key(key)
        await asyncio.to_thread(self._put_sync, key, bytes(data), content_type or DEFAULT_CONTENT_TYPE)
        return self.url(key)

    async def get(self, key: str) -> bytes:
        return (await self.open(key))[0]

    async def open(self, key: str) -> tuple[bytes, str]:
        """Bytes and content type of a blob; raises KeyError when missing (for the serving route)."""
        validate_key(key)
        return await asyncio.to_thread(self._open_sync, key)

    async def exists(self, key: str) -> bool:
        validate_key(key)
        return await asyncio.to_thread((self._data / key).is_file)

    async def list(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        return [key for key, _ in await asyncio.to_thread(self._list_sync, prefix)]

    async def delete(self, key: str) -> None:
        validate_key(key)
        await asyncio.to_thread(self._delete_sync, key)

    async def delete_prefix(self, prefix: str, *, keep_newest: int = 0) -> int:
        validate_prefix(prefix)
        keys = await self.list(prefix)
        doomed = keys[: max(0, len(keys) - keep_newest)]
        for key in doomed:
            await asyncio.to_thread(self._delete_sync, key)
        return len(doomed)

    def url(self, key: str) -> str:
        return f'{self.url_prefix}/{validate_key(key)}'

    # ── blocking parts, run in a thread ───────────────────────────────────────────────────────

    def _put_sync(self, key: str, data: bytes, content_type: str) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._atomic_write(self._meta / key, content_type.encode())
        self._atomic_write(self._data / key, data)

    def _atomic_write(self, target: Path, data: bytes) -> None:
        tmp = self._tmp / f'{uuid.uuid4().hex}.tmp'
        try:
            with open(tmp, 'wb') as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            for attempt in range(3):
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(tmp, target)  # atomic: tmp/ lives on the same filesystem
                    return
                except FileNotFoundError:  # a concurrent delete pruned the empty parent: recreate it
                    if attempt == 2:
                        raise
        finally:
            tmp.unlink(missing_ok=True)

    def _open_sync(self, key: str) -> tuple[bytes, str]:
        try:
            data = (self._data / key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None
        try:
            content_type = (self._meta / key).read_text().strip() or DEFAULT_CONTENT_TYPE
        except OSError:
            content_type = DEFAULT_CONTENT_TYPE
        return data, content_type

    def _list_sync(self, prefix: str) -> builtins.list[tuple[str, int]]:
        # Walk only the directory the prefix points into, then filter by string prefix (S3 semantics).
        base = self._data / prefix.rsplit('/', 1)[0] if '/' in prefix else self._data
        if not base.is_dir():
            return []
        found: list[tuple[str, int]] = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                path = Path(dirpath) / name
                key = path.relative_to(self._data).as_posix()
                if key.startswith(prefix):
                    try:
                        found.append((key, path.stat().st_mtime_ns))
                    except FileNotFoundError:  # deleted while we walked
                        continue
        found.sort(key=lambda item: (item[1], item[0]))
        return found

    def _delete_sync(self, key: str) -> None:
        (self._data / key).unlink(missing_ok=True)
        (self._meta / key).unlink(missing_ok=True)
        self._prune_empty_dirs(key)

    def _prune_empty_dirs(self, key: str) -> None:
        for tree in (self._data, self._meta):
            parent = (tree / key).parent
            while parent != tree:
                try:
                    parent.rmdir()  # only succeeds when empty
                except OSError:
                    break
                parent = parent.parent
