"""An A/B of two trees' Redis scripts, replayed side by side: Redis CPU per script call.

    # record each tree's script calls (run from that tree, with its code on PYTHONPATH)
    PYTHONPATH=<tree>/src:<tree> .venv/bin/python -m benchmarks.bench_redis_ab record a.pickle
    # replay both, alternating batches of 100 calls between two redis-servers
    .venv/bin/python -m benchmarks.bench_redis_ab compare a.pickle b.pickle

`record` runs `bench_redis_cpu`'s requests (every defence; a page view, an original fetched
again, originals new to their address) and keeps each script call with its component (rate
limiting, identity, behaviour). `compare` loads each side's calls on a redis-server of its own
(warm-up calls first), then replays the measured calls in batches of 100 per component,
alternating the two sides, and prints the median (and least) of the batches' µs per call from
`INFO commandstats`. On a machine shared with other work, a run's CPU figures swing by 2x;
alternating batches lets both sides meet the same neighbours, so the medians of one run compare.
Each call runs alone (its own EVALSHA: the server's time and the limits are parsed per call).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import pickle
import statistics
from typing import Any

import redis

from benchmarks import bench_redis_cpu
from benchmarks.bench_ratelimit import redis_server

Recorded = dict[str, list[tuple[str, str, list[str], list[Any], bool]]]
BATCH = 100


def record(path: str, requests: int) -> None:
    with redis_server() as url:
        _, calls = asyncio.run(bench_redis_cpu.measure(url, requests))
    names = bench_redis_cpu.COMPONENTS
    out: Recorded = {
        kind: [(names.get(c[0], "other"), c[0], c[1], c[2], c[3]) for c in recorded]
        for kind, recorded in calls.items()
    }
    with open(path, "wb") as file:
        pickle.dump(out, file)


def _load(client: redis.Redis, calls: list[Any]) -> list[tuple[str, str, list[str], list[Any]]]:
    client.flushall()
    shas: dict[str, str] = {}
    for _, source, keys, args, measured in calls:
        sha = shas.setdefault(source, client.script_load(source))
        if not measured:
            client.evalsha(sha, len(keys), *keys, *args)
    return [(c[0], shas[c[1]], c[2], c[3]) for c in calls if c[4]]


def compare(path_a: str, path_b: str) -> None:
    with open(path_a, "rb") as file:
        a: Recorded = pickle.load(file)
    with open(path_b, "rb") as file:
        b: Recorded = pickle.load(file)
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(redis_server()) for _ in "ab"]
        clients = [redis.Redis.from_url(url) for url in urls]
        for kind in [k for k in a if k in b]:
            sides = [_load(clients[0], a[kind]), _load(clients[1], b[kind])]
            components = sorted({c[0] for side in sides for c in side})
            figures: dict[tuple[int, str], list[float]] = {}
            for start in range(0, min(map(len, sides)) - BATCH + 1, BATCH):
                for i, (client, calls) in enumerate(zip(clients, sides, strict=True)):
                    for component in components:
                        batch = [c for c in calls[start : start + BATCH] if c[0] == component]
                        if not batch:
                            continue
                        client.config_resetstat()
                        pipe = client.pipeline(transaction=False)
                        for _, sha, keys, args in batch:
                            pipe.evalsha(sha, len(keys), *keys, *args)
                        pipe.execute()
                        stat = client.info("commandstats")["cmdstat_evalsha"]
                        figures.setdefault((i, component), []).append(stat["usec"] / stat["calls"])
            print(kind)
            for component in components:
                row = []
                for i in (0, 1):
                    got = figures.get((i, component), [])
                    median = f"{statistics.median(got):6.2f}" if got else "     -"
                    least = f"{min(got):5.2f}" if got else "    -"
                    row.append(f"{'AB'[i]} {median} (least {least})")
                print(f"  {component:10} {'   '.join(row)}  µs a call, {len(got)} batches")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("path")
    rec.add_argument("--requests", type=int, default=1000)
    cmp = sub.add_parser("compare")
    cmp.add_argument("a")
    cmp.add_argument("b")
    options = parser.parse_args()
    if options.command == "record":
        record(options.path, options.requests)
    else:
        compare(options.a, options.b)


if __name__ == "__main__":
    main()
