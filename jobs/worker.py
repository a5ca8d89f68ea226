"""Background execution in the web process: the build dispatcher and start-up recovery."""

from __future__ import annotations

from functools import partial

from core.services import Services
from jobs import recovery, runner


async def start(services: Services) -> None:
    """Recover interrupted builds, then start executing queued ones."""
    services.queue.bind(claim=partial(runner.claim, services), run=partial(runner.run_build, services))
    await recovery.requeue_stale_builds(services, sole_executor=services.settings.WORKERS == 'inprocess')
    await services.queue.start()


async def stop(services: Services) -> None:
    await services.queue.stop()
