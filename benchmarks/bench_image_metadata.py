"""Cost of embedding rights metadata in served originals (directives.image_metadata).

Three figures, side by side in one run (1 and 2 in CPU time, best of 5 batches):
1. the header edit alone (plan + XMP packet) per image, fresh and merging an existing packet;
2. in-process ASGI (no HTTP): the middleware around an app serving a demo original
   (`/images/N.png`, about 60 KB, content-length set), image_metadata off and on;
3. over HTTP: one uvicorn (httptools, uvloop) serving the demo gallery behind the shield (its
   1.4 KB PNG originals), then a 0.94 MB JPEG, sequential keep-alive GETs from one httpx
   client, off and on, alternating for `--rounds` rounds (medians; each round printed).

.venv/bin/python -m benchmarks.bench_image_metadata [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import time
from typing import Any

import httpx
from tests.servers import serve

from scrapeshield import ScrapeShield, Settings
from scrapeshield.demo.app import create_app
from scrapeshield.demo.art import png
from scrapeshield.directives.imagefile import Edit, plan_png
from scrapeshield.directives.images import ImageRewriter
from scrapeshield.directives.xmp import RightsFields
from scrapeshield.shield import synthetic_scope

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
FIELDS = RightsFields(
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING", 1, None, "https://a.example/t"
)


def photo(size: int = 1024) -> bytes:
    """A camera-sized JPEG (noise compresses badly: about 1 MB at 1024x1024, quality 90)."""
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(out, "JPEG", quality=90)
    return out.getvalue()


IMAGE = png(1)


def settings(on: bool) -> Settings:
    return Settings(
        terms_url="https://a.example/terms",
        safelist=[{"name": "bench", "ips": ["127.0.0.1", "203.0.113.0/24"]}],
        directives={"image_metadata": on},
    )


def edit_cost(iterations: int) -> tuple[float, float]:
    build = ImageRewriter(plan_png, FIELDS, 1 << 18).build
    plan = plan_png(IMAGE, build)
    assert isinstance(plan, Edit)
    tagged = plan.head + IMAGE[plan.consumed :]
    out = []
    for data in (IMAGE, tagged):
        best = float("inf")
        for _ in range(5):
            start = time.process_time()
            for _ in range(iterations // 5):
                plan_png(data, build)
            best = min(best, (time.process_time() - start) / (iterations // 5) * 1e6)
        out.append(best)
    return out[0], out[1]


def image_app(body: bytes, media: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", media), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def in_process(on: bool, iterations: int, app: Any) -> float:
    middleware = ScrapeShield(app, settings=settings(on))
    scope = synthetic_scope(user_agent=UA, path="/images/1.png")

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        return None

    for _ in range(300):
        await middleware(dict(scope), receive, send)
    best = float("inf")
    for _ in range(5):  # CPU time, best of 5: this machine's neighbours skew wall time
        start = time.process_time()
        for _ in range(iterations // 5):
            await middleware(dict(scope), receive, send)
        best = min(best, (time.process_time() - start) / (iterations // 5) * 1e6)
    await middleware.aclose()
    return best


def over_http(on: bool, requests: int, photo_app: Any | None = None) -> float:
    """Sequential keep-alive GETs over uvicorn (uvloop): the demo's originals, or one photo."""
    headers = {"User-Agent": UA, "Accept": "image/avif,image/webp,*/*"}
    app = (
        create_app(settings(on))
        if photo_app is None
        else ScrapeShield(photo_app, settings=settings(on))
    )
    path = "/images/{}.png" if photo_app is None else "/images/{}.jpg"
    with serve(app, loop="uvloop") as server, httpx.Client() as client:
        for i in range(20):
            client.get(server.url + path.format(i % 24 + 1), headers=headers)
        start = time.perf_counter()
        for i in range(requests):
            response = client.get(server.url + path.format(i % 24 + 1), headers=headers)
            assert response.status_code == 200
            assert (b"DataMining" in response.content[:4096]) is on
        return requests / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    fresh, merged = edit_cost(2000)
    print(f"image: demo original, {len(IMAGE):,} bytes")
    print(
        f"header edit alone     fresh {fresh:7.1f} µs   merging an existing packet {merged:7.1f} µs"
    )
    big = photo()
    for name, app in (
        (f"PNG {len(IMAGE):,} B", image_app(IMAGE, b"image/png")),
        (f"JPEG {len(big):,} B", image_app(big, b"image/jpeg")),
    ):
        off = asyncio.run(in_process(False, args.requests, app))
        on = asyncio.run(in_process(True, args.requests, app))
        print(
            f"in-process, {name:<16} off {off:7.1f} µs   on {on:7.1f} µs   added {on - off:+.1f} µs"
        )
    for name, photo_app, count in (
        (f"demo PNG {len(IMAGE):,} B", None, args.requests // 2),
        (f"JPEG {len(big):,} B", image_app(big, b"image/jpeg"), args.requests // 10),
    ):
        rates: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.rounds):
            for mode in (False, True):
                rates[mode].append(over_http(mode, count, photo_app))
        off_rate, on_rate = statistics.median(rates[False]), statistics.median(rates[True])
        print(
            f"HTTP, {name:<18} off {off_rate:6.0f} req/s   on {on_rate:6.0f} req/s   "
            f"({on_rate / off_rate:.2f}x; {1e6 / on_rate - 1e6 / off_rate:+.0f} µs per image; "
            f"rounds off {[round(r) for r in rates[False]]} on {[round(r) for r in rates[True]]})"
        )


if __name__ == "__main__":
    main()
