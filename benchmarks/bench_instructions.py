"""Instructions a request, counted by valgrind's callgrind: an A/B the host's swings do not move.

.venv/bin/python -m benchmarks.bench_instructions [--requests 1000] [--against <checkout>/src]
    [--kinds page,cookie,original,bare,redis-page,redis-cookie,redis-original] [--breakdown]
    [--real-clock]

This shared 2-core host runs the same tree's requests 20% slower or faster from one run to the
next (and doubles every figure in its slow mode), so a change worth under a few percent of a
request cannot be seen in `bench_request`'s microseconds. The number of instructions a request
executes barely moves between runs of one tree (0.02-0.13% here), so two trees compare exactly:
each kind of request runs in a fresh interpreter under `valgrind --tool=callgrind`, which
counts only inside the measured loop (`--toggle-collect` on the C function of
`functools.reduce`, which drives it), after 500 warm-up requests; `PYTHONHASHSEED=0`.

Kinds (`benchmarks.apps`' settings: every defence, memory store, limits out of reach): `page`
the artwork page with `run`'s Chrome headers and no cookie (a new visitor each time: the
published benchmark's request), `cookie` the same with the visitor cookie the first page was
issued, `original` the artwork's image with an image fetch's headers, and `bare` the page on the
bare gallery (the denominator: a request's share is its instructions over the shield's
request). Each is the whole ASGI request (the middleware, the shield, the app's response), run
to its end without a turn of the event loop (the memory store never waits); work scheduled for
later (the lease sweep, a log writer's task) is not counted.

`--breakdown` also counts this tree's shield without one defence's detectors at a time, and
without any (`bench_request --breakdown`'s defences): the difference is what that defence adds
to the request, caches and all (a visitor cookie is issued by identity, so `cookie` is not
counted without it).

The `redis-` kinds are the same requests on the Redis store (a fresh redis-server of the bench's
own for each run): 32 at a time on uvloop, as one uvicorn worker under `wrk -c32` serves them
(the published "as shipped, Redis" row), each batch run to its end by the loop
(`run_until_complete`) inside the counted stretch, so the loop's turns, the store's batching,
its packing and its replies count with the requests; the Redis server's own work does not (a
process of its own: `bench_redis_cpu` measures it). Their figures move a little more between
runs of one tree (0.3% here: how replies arrive decides how a tick's work is split).

In-process kinds run on a fake clock (`time.time` advancing 5 µs a call; `--real-clock` turns
it off): under valgrind's pace a lease (on by default) ends by time at a different request in
each run, and one lease's end (its settle, a full evaluation, the next grant) moved a leased
page's figure by ~24k instructions; on the fake clock two runs of one tree agree to the
instruction. The `redis-` kinds keep the real clock (the server's own expiries run on it).

Instructions are not time: a cache miss costs more than an instruction and a division more than
an add, so a change in data layout (what the garbage collector walks, what a reader's pace
leaves cold) is measured in time (`bench_pace`, `benchmarks.run`), not here. This is for code
changes on the request path: their cost, side by side, to a tenth of a percent.

Needs valgrind (Debian: `apt-get install valgrind`; not installed by scripts/setup). Each run
takes ~20-40 s (valgrind runs Python ~50 times slower).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_person import shield_of, stopped
from benchmarks.bench_ratelimit import redis_server
from benchmarks.bench_request import DEFENCES, Driver, visitor_cookie
from benchmarks.bench_request import without as shield_without

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("page", "cookie", "original", "bare", "redis-page", "redis-cookie", "redis-original")
WARM_UP = 500
AT_ONCE = 32
"""Requests at a time in the `redis-` kinds."""
_TOTAL = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def child(kind: str, requests: int, without: str | None = None) -> None:
    """In the interpreter valgrind runs: the app (`without` one defence's detectors), its
    warm-up, then `requests` requests inside `functools.reduce` (the only stretch callgrind
    counts)."""
    from benchmarks import apps

    logging.disable(logging.WARNING)
    if kind.startswith("redis-"):
        at_once(kind.removeprefix("redis-"), requests, without)
        return
    if os.environ.get("BENCH_FAKE_CLOCK"):
        fake_clock()
    if kind == "bare":
        app = apps.bare()
    else:
        app = shield_without(without) if without else apps.protected()
    image = kind == "original"
    driver = Driver(app, "/images/7.png" if image else "/artworks/7", image)

    def one(_: object, __: object) -> None:
        request = driver.app(dict(driver.scope), driver.receive, driver.send)
        try:
            request.send(None)
        except StopIteration:
            return
        request.close()
        raise RuntimeError("the request waited on the event loop: not countable here")

    async def main() -> None:
        await driver.start()
        if kind == "cookie":
            cookie = await visitor_cookie(driver)
            driver.scope["headers"] = [*driver.scope["headers"], (b"cookie", cookie)]
        for _ in range(WARM_UP):  # (a loop: not counted)
            one(None, None)
        await asyncio.sleep(0)  # what the warm-up scheduled runs before the count
        functools.reduce(one, range(requests), None)  # counted (nothing in src calls reduce)
        await stopped(driver)

    asyncio.run(main())


def fake_clock() -> None:
    """`time.time` advancing 5 µs a call from now: where leases end (by time) is then the same
    request in every run, whatever valgrind's pace (the module docstring)."""
    start, ticks = time.time(), itertools.count()
    setattr(time, "time", lambda: start + next(ticks) * 5e-6)  # noqa: B010 (a module's function)


def at_once(kind: str, requests: int, without: str | None) -> None:
    """`child` on the Redis store (BENCH_STORE_URL): batches of `AT_ONCE` requests, each run by
    uvloop to its end (`requests` is a whole number of batches). Under valgrind a batch takes
    fifty times as long, so the store's deadline is 30 s (BENCH_STORE_TIMEOUT, set by `count`),
    and a run in which the store failed even once (a fail-open path counted) is refused."""
    import uvloop

    from benchmarks import apps

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    app = shield_without(without) if without else apps.protected()
    image = kind == "original"
    driver = Driver(app, "/images/7.png" if image else "/artworks/7", image)

    async def batch() -> None:
        scope, receive, send = driver.scope, driver.receive, driver.send
        await asyncio.gather(*[driver.app(dict(scope), receive, send) for _ in range(AT_ONCE)])

    def one(_: object, __: object) -> None:
        loop.run_until_complete(batch())

    loop.run_until_complete(driver.start())
    if kind == "cookie":
        cookie = loop.run_until_complete(visitor_cookie(driver))
        driver.scope["headers"] = [*driver.scope["headers"], (b"cookie", cookie)]
    for _ in range(WARM_UP // AT_ONCE):  # (a loop: not counted)
        one(None, None)
    functools.reduce(one, range(requests // AT_ONCE), None)  # counted
    middleware = shield_of(app)
    assert middleware is not None
    failures = middleware.shield.store.breaker.failures  # type: ignore[attr-defined]
    loop.run_until_complete(stopped(driver))
    loop.close()
    if failures:  # a fail-open path would have been counted: not the request measured
        raise RuntimeError(f"the store failed {failures} times: the count is not the request's")


def count(
    src: Path, kind: str, requests: int, without: str | None = None, real_clock: bool = False
) -> float:
    """Instructions a request: one run of `child` under callgrind, which counts inside
    `functools.reduce` only (the measured loop; neither the app nor its server calls it). A
    `redis-` kind gets a fresh redis-server for its run (what one tree stored, the next does
    not find) and whole batches."""
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        out = Path(folder) / "callgrind.out"
        env = os.environ | {"PYTHONPATH": f"{src}{os.pathsep}{ROOT}", "PYTHONHASHSEED": "0"}
        if not real_clock:
            env["BENCH_FAKE_CLOCK"] = "1"
        if kind.startswith("redis-"):
            env["BENCH_STORE_URL"] = stack.enter_context(redis_server())
            env["BENCH_STORE_TIMEOUT"] = "30"  # (valgrind's pace: see `at_once`)
            requests = -(-requests // AT_ONCE) * AT_ONCE
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=functools_reduce",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "benchmarks.bench_instructions",
            "--child",
            kind,
            "--requests",
            str(requests),
            *(["--without", without] if without else []),
        ]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=900)
        if done.returncode:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{kind} ({src}) failed: " + " / ".join(tail))
        found = _TOTAL.search(out.read_text(encoding="utf-8", errors="replace"))
    if found is None:
        raise RuntimeError("no total in callgrind's output")
    return int(found.group(1)) / requests


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_instructions")
    parser.add_argument("--requests", type=int, default=1000, help="counted requests a run")
    parser.add_argument("--against", type=Path, help="another checkout's src: side by side")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"of {', '.join(KINDS)}")
    parser.add_argument("--breakdown", action="store_true", help="each defence's share too")
    parser.add_argument("--real-clock", action="store_true", help="no fake clock (docstring)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--without", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests, args.without)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    kinds = [k for k in args.kinds.split(",") if k]
    if unknown := set(kinds) - set(KINDS):
        sys.exit(f"unknown kinds: {', '.join(sorted(unknown))}")
    trees = {"this tree": ROOT / "src"}
    if args.against:
        trees["against"] = args.against.resolve()
    print(f"instructions a request ({args.requests} counted after {WARM_UP} warm-up, callgrind):")
    found: dict[tuple[str, str], float] = {}
    for kind in kinds:
        for name, src in trees.items():
            found[(name, kind)] = count(src, kind, args.requests, real_clock=args.real_clock)
            print(f"  {kind:14} {name:10} {found[(name, kind)] / 1000:9.2f}k", flush=True)
        if args.against:
            here, there = found[("this tree", kind)], found[("against", kind)]
            print(f"  {kind:14} this tree / against {here / there:.4f} ({here - there:+,.0f})")
        if args.breakdown and kind != "bare":
            shipped = found[("this tree", kind)]
            for defence in DEFENCES:
                if kind.endswith("cookie") and defence in ("identity", "every detector"):
                    continue  # (the cookie is identity's: without it, none is issued)
                cost = shipped - count(ROOT / "src", kind, args.requests, defence, args.real_clock)
                print(f"  {kind:14} {defence:16} adds {cost / 1000:8.2f}k", flush=True)


if __name__ == "__main__":
    main()
