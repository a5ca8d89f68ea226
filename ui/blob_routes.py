"""/blobs/{key} — stored screenshots, logs and snapshots, served to their owner only."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import PlainTextResponse
from nicegui import app

from core import accounts
from core.models import BlobRecord
from core.services import Services


def register(svc: Services) -> None:
    @app.get('/blobs/{key:path}', include_in_schema=False)
    async def blob(key: str) -> Response:
        async with svc.sessions() as session:
            user = await accounts.active_user(session, app.storage.user.get('user_id'))
            record = await session.get(BlobRecord, key)
        if user is None or record is None or record.owner_id != user.id:
            return PlainTextResponse('Not found', status_code=404)
        try:
            data, content_type = await svc.blobs.open(key)
        except KeyError:
            return PlainTextResponse('Not found', status_code=404)
        # Keys are never reused (a new capture gets a new key), so browsers may keep them forever.
        return Response(
            data, media_type=content_type, headers={'Cache-Control': 'private, max-age=31536000, immutable'}
        )
