"""Leader election across processes on one Redis key with an expiry (SET NX PX, renewed by its holder).

A holder that dies stops renewing; the key expires after `ttl_s` and the next process to try takes it.
Renewal and release check the value first (a Lua script), so a process that lost the key cannot extend
or delete another's."""

from __future__ import annotations

import logging
import os
import socket
import uuid

import redis.asyncio as redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
KEY = 'cofounder:scheduler:leader'
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class RedisLeaderLock:
    name = 'redis'

    def __init__(self, url: str, *, ttl_s: float = 15.0, key: str = KEY) -> None:
        self._client = redis.Redis.from_url(url, client_name='cofounder-leader')
        self.ttl_s, self.key = ttl_s, key
        self.identity = f'{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}'

    async def hold(self) -> bool:
        ttl_ms = int(self.ttl_s * 1000)
        try:
            if await self._client.set(self.key, self.identity, nx=True, px=ttl_ms):
                return True
            return bool(await self._client.eval(_RENEW, 1, self.key, self.identity, ttl_ms))
        except (RedisError, OSError) as error:
            logger.warning('leader lock unavailable (%s): not leading', type(error).__name__)
            return False

    async def holder(self) -> str | None:
        value = await self._client.get(self.key)
        return value.decode() if value else None

    async def release(self) -> None:
        try:
            await self._client.eval(_RELEASE, 1, self.key, self.identity)
        except (RedisError, OSError):
            pass  # it expires on its own
        await self._client.aclose()
