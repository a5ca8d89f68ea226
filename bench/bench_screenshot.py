"""Screenshot timings: cold (launch + first shot) vs warm (browser already up).

Run: .venv/bin/python -m bench.bench_screenshot [--shots 10]

The baseline measured in the same run is the cold path (what every capture would cost without a
warm browser); the warm p50 is what a build pays per screenshot. Never part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.adapters.screenshot_playwright import PlaywrightScreenshotter

PAGE = (
    '<!doctype html><html><head><style>body{margin:0;font-family:sans-serif;'
    'background:linear-gradient(135deg,#ff6b6b,#4ecdc4 40%,#556270)}'
    '.s{display:inline-block;width:90px;height:90px;margin:6px;border-radius:50%}</style></head>'
    '<body><h1>Pawfect Walks</h1><p>Book a trusted dog walker in under a minute.</p>'
    + ''.join(f'<span class="s" style="background:hsl({h * 23 % 360},70%,50%)"></span>' for h in range(30))
    + '</body></html>'
).encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(shots: int, chromium: str) -> None:
    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}/'
    try:
        colds: list[float] = []
        for _ in range(3):  # cold: a new screenshotter each time, launch included
            shooter = PlaywrightScreenshotter(chromium)
            start = time.perf_counter()
            png = await shooter.capture(url)
            colds.append(time.perf_counter() - start)
            assert png is not None, shooter.status()
            await shooter.close()

        shooter = PlaywrightScreenshotter(chromium)
        await shooter.capture(url)  # warm up
        warms: list[float] = []
        for _ in range(shots):
            start = time.perf_counter()
            png = await shooter.capture(url)
            warms.append(time.perf_counter() - start)
            assert png is not None, shooter.status()
        size = len(png or b'')

        start = time.perf_counter()
        together = await asyncio.gather(*(shooter.capture(url) for _ in range(4)))
        parallel = time.perf_counter() - start
        await shooter.close()
    finally:
        server.shutdown()
        server.server_close()

    cold_p50, warm_p50 = statistics.median(colds), statistics.median(warms)
    print(f'screenshot 1280x800 PNG ({size / 1024:.0f} KB), chromium {chromium}')
    print(f'  cold (launch + first shot), p50 of {len(colds)}: {cold_p50 * 1000:7.0f} ms   (baseline)')
    print(f'  warm shot, p50 of {len(warms)}:               {warm_p50 * 1000:7.0f} ms')
    print(f'  warm shot, p90 / max:                  {pct(warms, 0.9) * 1000:7.0f} / {max(warms) * 1000:.0f} ms')
    print(f'  4 concurrent warm shots, wall time:    {parallel * 1000:7.0f} ms  ({sum(1 for t in together if t)} ok)')
    print(f'  warm vs cold: {cold_p50 / warm_p50:.1f}x faster')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--shots', type=int, default=10)
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    args = parser.parse_args()
    asyncio.run(run(args.shots, args.chromium))


if __name__ == '__main__':
    main()
