"""Which Redis client should the store use? Every defence as shipped, over HTTP, side by side.

.venv/bin/python -m benchmarks.bench_redis_clients [--seconds 8] [--rounds 3]

The demo with every defence (benchmarks/apps.py `protected`) is served by one uvicorn worker on
each stack (h11 + asyncio, httptools + uvloop) and loaded with `wrk -t1 -c32` on an artwork
page with a browser's headers; the store is memory (the reference), or Redis through each client:
`link` (the store's own hiredis protocol), `redis-py` (redis-py's asyncio pipeline, hiredis
parser) and `glide` (valkey-glide; installed by hand: `pip install valkey-glide`). Every variant
coalesces the commands of one event-loop tick into one pipeline, so only the client differs.
Variants alternate for `--rounds` rounds and the medians are compared; Redis is flushed before
each run so no run inherits another's counters.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics

import redis

from benchmarks.bench_ratelimit import redis_server, uvicorn, wrk

STACKS = {
    "h11+asyncio": ("--loop", "asyncio", "--http", "h11"),
    "httptools+uvloop": ("--loop", "uvloop", "--http", "httptools"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    clients = ["redis-py"]
    if importlib.util.find_spec("glide") is not None:
        clients.append("glide")
    with redis_server() as url:
        variants: list[tuple[str, str, dict[str, str]]] = [
            ("bare", "bare", {}),
            ("memory", "protected", {"BENCH_STORE_URL": "memory://"}),
        ]
        variants += [
            (f"redis/{c}", "protected", {"BENCH_STORE_URL": url, "BENCH_REDIS_CLIENT": c})
            for c in clients
        ]
        admin = redis.Redis.from_url(url)
        runs: dict[tuple[str, str], list[float]] = {}
        for _ in range(options.rounds):
            for stack, args in STACKS.items():
                for label, factory, env in variants:
                    admin.flushall()
                    with uvicorn(factory, env, args) as base:
                        rps, statuses = wrk(base, options.seconds, options.connections)
                    runs.setdefault((stack, label), []).append(rps)
                    print(f"  {stack:17} {label:15} {rps:8.0f} req/s {statuses}", flush=True)
        admin.close()
    print(f"\nmedian of {options.rounds} rounds, req/s (ratio to bare; ratio to redis-py)")
    for stack in STACKS:
        bare = statistics.median(runs[(stack, "bare")])
        redispy = statistics.median(runs[(stack, "redis/redis-py")])
        for label, _, _ in variants:
            rps = statistics.median(runs[(stack, label)])
            print(
                f"{stack:17} {label:15} {rps:8.0f}  {rps / bare:5.2f} of bare"
                f"  {rps / redispy:5.2f}x redis-py"
            )


if __name__ == "__main__":
    main()
