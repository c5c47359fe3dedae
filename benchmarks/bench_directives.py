"""Cost of the directive response filters per app response, in-process ASGI (no HTTP).

Side by side in one run: the middleware around an HTML page with directives headers off, on,
and on with the streaming `<head>` injector; plus robots.txt served by scrapeshield.

.venv/bin/python -m benchmarks.bench_directives
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from scrapeshield import ScrapeShield, Settings
from scrapeshield.shield import synthetic_scope

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
PAGE = b"<!doctype html><html><head><title>x</title></head><body>" + b"a" * 4000 + b"</body></html>"


async def app(scope: Any, receive: Any, send: Any) -> None:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", b"%d" % len(PAGE)),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": PAGE})


async def run(middleware: Any, path: str, iterations: int) -> float:
    scope = synthetic_scope(user_agent=UA, path=path)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        return None

    for _ in range(500):
        await middleware(dict(scope), receive, send)
    start = time.perf_counter()
    for _ in range(iterations):
        await middleware(dict(scope), receive, send)
    return (time.perf_counter() - start) / iterations * 1e6


async def main(iterations: int = 20_000) -> None:
    variants = {
        "headers off": {"headers": False},
        "headers on": {},
        "headers + inject": {"inject_html": True},
    }
    results = {}
    for name, directives in variants.items():
        middleware = ScrapeShield(app, settings=Settings(directives=directives))
        results[name] = await run(middleware, "/artworks/1", iterations)
        await middleware.aclose()
    base = results["headers off"]
    for name, micros in results.items():
        print(f"{name:<18} {micros:7.1f} µs/request  ({micros / base:.2f}x)")
    middleware = ScrapeShield(app, settings=Settings())
    robots = await run(middleware, "/robots.txt", iterations)
    print(f"{'robots.txt':<18} {robots:7.1f} µs/request")
    await middleware.aclose()


if __name__ == "__main__":
    asyncio.run(main())
