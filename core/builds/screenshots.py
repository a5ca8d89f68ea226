"""Publish a screenshot of the running app to the build page (B-7).

Called after the dev server is live and at each phase completion. Capture → immutable blob →
ownership record → `snapshot.updated` event. Nothing here may fail a build: every problem is
logged and turns into None.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from core.db import SessionFactory, transaction
from core.events import BuildEvent, SnapshotUpdated
from core.models import BlobRecord
from core.ports import BlobStore, Screenshotter

log = logging.getLogger(__name__)

Emit = Callable[[BuildEvent], Awaitable[Any]]
CONTENT_TYPE = 'image/png'


def screenshot_key(project_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """A fresh key per capture: the URL never changes content, so browsers may cache it forever."""
    return f'projects/{project_id}/screenshots/{job_id}/{uuid.uuid4()}.png'


async def capture_and_publish(
    *,
    shooter: Screenshotter,
    blobs: BlobStore,
    sessions: SessionFactory,
    emit: Emit,
    job_id: uuid.UUID,
    project_id: uuid.UUID,
    owner_id: uuid.UUID | None,
    url: str,
    phase: str = '',
) -> str | None:
    """Capture `url`, store the PNG, record its owner and emit `snapshot.updated`.

    Returns the blob URL the browser uses, or None when there was no usable capture or any step
    failed (logged). Never raises.
    """
    try:
        png = await shooter.capture(url)
        if not png:
            return None
        key = screenshot_key(project_id, job_id)
        blob_url = await blobs.put(key, png, content_type=CONTENT_TYPE)
        async with transaction(sessions) as session:
            session.add(
                BlobRecord(
                    key=key,
                    owner_id=owner_id,
                    project_id=project_id,
                    job_id=job_id,
                    kind='screenshot',
                    content_type=CONTENT_TYPE,
                    size=len(png),
                )
            )
        await emit(SnapshotUpdated(job_id=job_id, url=blob_url, key=key, phase=phase))
        return blob_url
    except Exception:
        log.exception('publishing a screenshot for job %s failed; the build goes on', job_id)
        return None
