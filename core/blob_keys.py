"""Blob keys: relative paths every BlobStore adapter accepts, checked the same way everywhere."""

from __future__ import annotations


def validate_key(key: str) -> str:
    """A key is a relative path of non-empty segments, without '.' or '..'; returns it unchanged."""
    if not isinstance(key, str) or not key:
        raise ValueError('invalid blob key: empty')
    if key.startswith('/') or '\\' in key or '\x00' in key:
        raise ValueError(f'invalid blob key {key!r}: must be a relative path with "/" separators')
    for segment in key.split('/'):
        if segment in {'', '.', '..'}:
            raise ValueError(f'invalid blob key {key!r}: empty, "." or ".." segment')
    return key


def validate_prefix(prefix: str) -> str:
    """A prefix is '' or the start of a key (it may end with '/')."""
    if prefix:
        validate_key(prefix[:-1] if prefix.endswith('/') else prefix)
    return prefix
