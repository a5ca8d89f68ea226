"""The push baseline for bench_build_push: a bare NiceGUI page whose label a per-client task sets.

`GET /?slot=N` shows one label; `POST /push/{slot}/{text}` hands the text to the background task of
every page open on that slot, which sets the label. Nothing else runs here, so the time from the
bench's request to the text in Chromium's DOM is what NiceGUI push itself costs on this machine.
Started by the bench as `python bench/_push_baseline_app.py` with PORT set; never part of the tests.
"""

from __future__ import annotations

import asyncio
import os

from nicegui import app, background_tasks, ui

slots: dict[str, set[asyncio.Queue[str]]] = {}


@app.get('/healthz')
def healthz() -> dict[str, bool]:
    return {'ok': True}


@app.post('/push/{slot}/{text}')
async def push(slot: str, text: str) -> dict[str, int]:
    # async: on the event loop, like the tasks it wakes (a plain `def` ran on a worker thread, and an
    # asyncio.Queue must not be fed from another thread)
    queues = slots.get(slot, set())
    for queue in queues:
        queue.put_nowait(text)
    return {'pages': len(queues)}


@ui.page('/')
def index(slot: str = '0') -> None:
    label = ui.label('waiting').classes('push-label')
    queue: asyncio.Queue[str] = asyncio.Queue()
    slots.setdefault(slot, set()).add(queue)

    async def follow() -> None:
        # The same shape as ui.live.follow: a per-client task sleeping until it has something to show.
        while True:
            label.set_text(await queue.get())

    client = ui.context.client
    task = background_tasks.create(follow(), name=f'baseline slot {slot}')
    client.on_delete(task.cancel)
    client.on_delete(lambda: slots.get(slot, set()).discard(queue))


if __name__ in {'__main__', '__mp_main__'}:
    ui.run(
        host='127.0.0.1',
        port=int(os.environ['PORT']),
        reload=False,
        show=False,
        title='push baseline',
        uvicorn_logging_level='warning',
    )
