"""Blob storage on S3 or an S3-compatible service (MinIO, R2, …) through boto3.

boto3 is synchronous, so every call goes through asyncio.to_thread. Objects are written with
their content type and an immutable cache header. With `public_url` (a CDN or public bucket) the
browser fetches blobs from there; otherwise the bucket stays private and the app serves them at
`url_prefix/<key>` (owner-checked), reading them with `open(key)`.
"""

from __future__ import annotations

import asyncio
import builtins
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.blob_keys import validate_key, validate_prefix

CACHE_CONTROL = 'public, max-age=31536000, immutable'

DEFAULT_CONTENT_TYPE = 'application/octet-stream'
_MISSING = {'NoSuchKey', '404', 'NotFound'}


class S3BlobStore:
    """`BlobStore` on an S3 bucket. Extra method: `open(key) -> (bytes, content_type)`."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = 'us-east-1',
        public_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        url_prefix: str = '/blobs',
    ) -> None:
        self.bucket = bucket
        self.public_url = public_url.rstrip('/') if public_url else None
        self.url_prefix = url_prefix.rstrip('/')
        # Path-style when an endpoint is given: MinIO and friends rarely have wildcard DNS.
        config = Config(
            s3={'addressing_style': 'path'} if endpoint_url else {},
            retries={'max_attempts': 3, 'mode': 'standard'},
            connect_timeout=5,
            read_timeout=60,
        )
        self._client: Any = boto3.session.Session().client(
            's3',
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    # ── BlobStore ─────────────────────────────────────────────────────────────────────────────

    async def put(self, key: str, data: bytes, *, content_type: str) -> str:
        validate_key(key)
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=bytes(data),
            ContentType=content_type or DEFAULT_CONTENT_TYPE,
            CacheControl=CACHE_CONTROL,
        )
        return self.url(key)

    async def get(self, key: str) -> bytes:
        return (await self.open(key))[0]

    async def open(self, key: str) -> tuple[bytes, str]:
        """Bytes and content type of a blob; raises KeyError when missing (for the serving route)."""
        validate_key(key)
        return await asyncio.to_thread(self._open_sync, key)

    async def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            await asyncio.to_thread(self._client.head_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise
        return True

    async def list(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        return await asyncio.to_thread(self._list_sync, prefix)

    async def delete(self, key: str) -> None:
        validate_key(key)
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=key)

    async def delete_prefix(self, prefix: str, *, keep_newest: int = 0) -> int:
        validate_prefix(prefix)
        keys = await self.list(prefix)
        doomed = keys[: max(0, len(keys) - keep_newest)]
        for start in range(0, len(doomed), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{'Key': key} for key in doomed[start : start + 1000]]
            await asyncio.to_thread(
                self._client.delete_objects, Bucket=self.bucket, Delete={'Objects': batch, 'Quiet': True}
            )
        return len(doomed)

    def url(self, key: str) -> str:
        validate_key(key)
        if self.public_url:
            return f'{self.public_url}/{key}'
        return f'{self.url_prefix}/{key}'

    # ── blocking parts, run in a thread ───────────────────────────────────────────────────────

    def _open_sync(self, key: str) -> tuple[bytes, str]:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise KeyError(key) from None
            raise
        with response['Body'] as body:
            data = body.read()
        return data, response.get('ContentType') or DEFAULT_CONTENT_TYPE

    def _list_sync(self, prefix: str) -> builtins.list[str]:
        found: list[tuple[Any, str]] = []
        for page in self._client.get_paginator('list_objects_v2').paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend((obj['LastModified'], obj['Key']) for obj in page.get('Contents', []))
        found.sort()  # LastModified has one-second resolution: the key breaks ties
        return [key for _, key in found]


def _code(exc: ClientError) -> str:
    return str(exc.response.get('Error', {}).get('Code', ''))
