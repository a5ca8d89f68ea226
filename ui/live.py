"""Server push of build events to one page (UI-1, B-3).

`follow` starts one background task per page (client): it replays the job's events from the
database and then follows them live through `EventLog.follow`, handing each event to the page's
components. Nothing polls: the task sleeps on the notifier between events. The task belongs to the
client: it is cancelled when the client is deleted (tab closed, page left), and it survives a
socket reconnect of the same client, so no event is lost or repeated. A reload is a new client and
replays from seq 0; components skip what they have already seen by `seq`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from contextlib import aclosing

from nicegui import Client, background_tasks, ui

from core import metrics
from core.events import BuildEvent
from core.models import utcnow
from core.services import Services

logger = logging.getLogger(__name__)

Apply = Callable[[BuildEvent], None]


def follow(svc: Services, job_id: uuid.UUID, *, after_seq: int = 0, apply: Sequence[Apply]) -> asyncio.Task:
    """Feed every event of `job_id` after `after_seq` to each `apply`, replay first, then live.

    Call it while building a page (it binds the task to that page's client).
    """
    client = ui.context.client
    task = background_tasks.create(
        _pump(svc, client, job_id, after_seq, tuple(apply)), name=f'follow build {job_id}', context=client
    )
    client.on_delete(task.cancel)
    return task


async def _pump(svc: Services, client: Client, job_id: uuid.UUID, after_seq: int, apply: tuple[Apply, ...]) -> None:
    opened = utcnow()  # events made from now on are live pushes, timed on /metrics (replayed ones are not)
    async with aclosing(svc.events.follow(job_id, after_seq)) as events:
        async for event in events:
            if client.is_deleted:  # the page is gone: a cancel that went astray must not keep us following
                return
            for handler in apply:
                _deliver(handler, event)
            if event.at >= opened:
                metrics.observe_push('page', event.at, utcnow())


def _deliver(handler: Apply, event: BuildEvent) -> None:
    # One broken component must not stop the others from following the build.
    try:
        handler(event)
    except Exception:
        logger.exception('build page component failed on %s #%s', event.type, event.seq)


class SeqGuard:
    """Idempotency by seq for components: replay and live may overlap, each event counts once."""

    last_seq: int = 0

    def fresh(self, event: BuildEvent) -> bool:
        """True the first time an event (by seq) is seen; remembers it."""
        if event.seq <= self.last_seq:
            return False
        self.last_seq = event.seq
        return True
