"""The operators' read side: time and peak memory to search, summarise and export a full stream.

.venv/bin/python -m benchmarks.bench_operators [--events 10000] [--file-lines 200000]

Starts its own redis-server, fills the event stream with `--events` schema-2 records (the
default `event_stream_maxlen`), then times, through `scrapeshield.operators`: finding the one
event of a client that is the oldest in the stream (what `log tail --client` does), a summary
of the whole stream, and a chronological export; then the same summary over a JSON-lines file
of `--file-lines` records. Peak memory is traced (tracemalloc) and is the figure to compare
with the data's size: reads are paged (500 events), so it should not grow with the stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.servers import RedisServer

from scrapeshield.operators import EventFilter, FileSource, StoreSource, export, newest, summarise
from scrapeshield.store import RedisStore


def record(n: int) -> dict[str, Any]:
    return {
        "ts": "2026-12-03T22:00:00.000Z",
        "time": time.time() - 3600 + n / 10,
        "event": "decision",
        "request_id": f"{n:016x}",
        "client_key": f"198.51.{n % 200}.{n % 250}",
        "client_ip": f"198.51.{n % 200}.{n % 250}",
        "user_agent": "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "method": "GET",
        "path": f"/art/{n % 5000}/original.png",
        "route_group": "images",
        "action": "block",
        "rule": "ai-crawler",
        "score": 100.0,
        "enforced": True,
        "reasons": [
            {"name": "ua/category/ai-training", "weight": 100.0, "detail": "GPTBot (OpenAI)"},
            {"name": "bot/GPTBot", "weight": 0.0, "detail": "catalogue source: ..."},
        ],
        "schema": 2,
        "agent": "GPTBot",
        "category": "ai-training",
        "directives": "46e54b0446d0e035",
    }


async def measure(name: str, work: Callable[[], Awaitable[Any]]) -> Any:
    """Timed once untraced, then run again under tracemalloc (which slows Python) for the peak."""
    started = time.perf_counter()
    result = await work()
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    await work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{name:<48} {elapsed * 1000:9.1f} ms   peak {peak / 1024:9.0f} KiB")
    return result


async def main(events: int, file_lines: int, out: Any) -> None:
    server = RedisServer.start()
    store = RedisStore(server.url, timeout=10.0, max_events=events)
    try:
        await store.append_event(record(-1) | {"client_key": "192.0.2.99"})
        for start in range(0, events - 1, 1000):
            await asyncio.gather(
                *(
                    store.append_event(record(n))
                    for n in range(start, min(start + 1000, events - 1))
                )
            )
        size = len(json.dumps(record(1)))
        print(f"{events} events in Redis, ~{size} bytes each (~{events * size / 1024:.0f} KiB)")
        source = StoreSource(store)
        found = await measure(
            "tail --client (the oldest event)",
            lambda: newest(source, EventFilter(client="192.0.2.99"), 50),
        )
        assert len(found) == 1
        summary = await measure(
            "summary of the whole stream", lambda: summarise(source.any_order(EventFilter()))
        )
        assert summary.total == events
        await measure(
            "export jsonl, oldest first (two passes)",
            lambda: export(source.oldest_first(EventFilter()), out, "jsonl"),
        )
    finally:
        await store.aclose()
        server.close()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "blocklog.jsonl"
        with path.open("w") as handle:
            for n in range(file_lines):
                handle.write(json.dumps(record(n)) + "\n")
        print(f"{file_lines} lines in a file ({path.stat().st_size / 1024 / 1024:.0f} MiB)")
        file_source = FileSource(path)
        await measure(
            "summary of the file", lambda: summarise(file_source.any_order(EventFilter()))
        )
        await measure("tail -n 50 of the file", lambda: newest(file_source, EventFilter(), 50))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--file-lines", type=int, default=200_000)
    options = parser.parse_args()
    with Path(os.devnull).open("w") as devnull:
        asyncio.run(main(options.events, options.file_lines, devnull))
