"""What an app pays to start with scrapeshield, and what each worker holds: the import, the
middleware's construction with default settings (memory store), the first request and a warm
one, and resident memory after each (a site running 8-16 workers per host pays it 8-16 times).

Each run is a fresh interpreter: it imports Starlette (the app's own cost, the baseline), then
`from scrapeshield import ScrapeShield, Settings` (timed), the demo gallery (not timed), builds
`ScrapeShield(gallery, settings=Settings())` (timed), runs its lifespan startup and then sends,
in process, the demo's artwork pages with Chrome's navigation headers (`tests/browsers.py`),
1,000 of them, ten people in turn (each an address in its own /24, with the visitor cookie its
first page set). The default limits refuse some (60 pages a person per 10 s): the first
request must be admitted, the warm figure is the admitted pages' median, and the answers are
printed for each side. Wall times; memory is the process's resident size (VmRSS) and its peak
(VmHWM) from /proc/self/status. With `--against` another checkout's `src` runs alternately
(A B A B ...); best and median of `-n` runs, every run with `--runs`.

.venv/bin/python -m benchmarks.bench_app_start [-n 5] [--against <checkout>/src] [--runs]
.venv/bin/python -m benchmarks.bench_app_start --steps [-n 5] [--against <checkout>/src]
.venv/bin/python -m benchmarks.bench_app_start --where [--top 25]

`--steps` times each piece of the construction in a fresh process (ua-parser's rules and
resolver, the catalogue and its matcher, the datacenter and verified crawlers' ranges, then the
rest of the shield) and the resident memory it adds: medians of `-n` runs. `--where` runs once
under tracemalloc and prints what Python objects the import and construction hold by file
(Rust and C allocations, e.g. ua-parser's compiled regexes, show only in VmRSS). Where the
import's time goes: `.venv/bin/python -X importtime -c "import scrapeshield" 2>&1 | sort -t'|'
-k2 -n | tail -40`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REQUESTS = 1000
PEOPLE = 10  # under identity's rotating-pool count (16 new identities with the same headers)
MEMORY = ("baseline", "import", "construct", "requests")
TIMES = ("import", "construct", "startup", "first request", "warm request")


def resident() -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    found: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def scope(n: int, headers: list[tuple[bytes, bytes]], cookie: bytes | None) -> dict[str, Any]:
    """Request `n`: person `n % PEOPLE` (an address in its own /24) asks for an artwork page."""
    person, path = n % PEOPLE, f"/artworks/{n % 300 + 1}"
    if cookie is not None:
        headers = [*headers, (b"cookie", cookie)]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": (f"10.{person}.0.7", 50000),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def serve(
    app: Any, headers: list[tuple[bytes, bytes]], times: dict[str, float]
) -> dict[int, int]:
    """The lifespan startup, then REQUESTS requests one at a time, PEOPLE people in turn, each
    with the visitor cookie its first page set; the answers' statuses. The default limits
    (60 pages a person per 10 s) refuse some: the warm figure is the admitted pages' median."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = time.perf_counter()
    await inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, outbox.put))
    if (await asyncio.wait_for(outbox.get(), 30))["type"] != "lifespan.startup.complete":
        raise SystemExit("the app did not start")
    times["startup"] = time.perf_counter() - started
    statuses: dict[int, int] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    cookies: dict[int, bytes] = {}
    person = 0

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1
            for name, value in message["headers"]:
                if name == b"set-cookie" and value.startswith(b"__ss_vid="):
                    cookies[person] = value.split(b";")[0]

    admitted: list[float] = []
    for n in range(REQUESTS):
        person = n % PEOPLE
        started = time.perf_counter()
        await asyncio.wait_for(app(scope(n, headers, cookies.get(person)), receive, send), 30)
        if statuses.get(200, 0) > len(admitted):
            admitted.append(time.perf_counter() - started)
        elif n == 0:
            raise SystemExit(f"the first request was refused: {statuses}")
    times["first request"] = admitted[0]
    times["warm request"] = statistics.median(admitted[1:])
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(outbox.get(), 30)
    await asyncio.wait_for(lifespan, 30)
    return statuses


def child(headers_json: str, trace: bool) -> dict[str, Any]:
    """One fresh process's figures (run by the parent as `--child`)."""
    headers = [(k.lower().encode(), v.encode()) for k, v in json.loads(headers_json)]
    import starlette.applications  # noqa: F401  the app's own start: the baseline

    memory = {"baseline": resident()}
    times: dict[str, float] = {}
    if trace:
        import tracemalloc

        tracemalloc.start()
    started = time.perf_counter()
    from scrapeshield import ScrapeShield, Settings

    times["import"] = time.perf_counter() - started
    memory["import"] = resident()
    from scrapeshield.demo.app import create_gallery

    gallery = create_gallery()
    started = time.perf_counter()
    app = ScrapeShield(gallery, settings=Settings())
    times["construct"] = time.perf_counter() - started
    memory["construct"] = resident()
    if trace:
        return {"snapshot": tracemalloc.take_snapshot()}
    statuses = asyncio.run(serve(app, headers, times))
    memory["requests"] = resident()
    return {"times": times, "memory": memory, "statuses": statuses, "redis": "redis" in sys.modules}


def steps_child() -> dict[str, tuple[float, float]]:
    """What each piece of the construction costs, in the order the shield builds them: (ms,
    resident MB added). The loaders are cached, so the shield built last reuses them all."""
    from scrapeshield import ScrapeShield, Settings
    from scrapeshield.demo.app import create_gallery
    from scrapeshield.fingerprint import catalogue, datacenter_ranges, ipranges, uacues, uaparse
    from scrapeshield.fingerprint.catalogue_match import AgentMatcher

    loaded: dict[str, Any] = {}
    pieces: dict[str, Callable[[], object]] = {
        "ua-parser rules": uaparse._matchers,
        "ua-parser resolver": uaparse.shared_resolver,
        "ua-parser self-naming rules": lambda: uaparse.self_naming_resolver(uacues.BOT_WORD_HINTS),
        "catalogue": lambda: catalogue.load_catalogue(None),  # (the shield's cache keys)
        "catalogue matcher": lambda: AgentMatcher(loaded["catalogue"]),
        "datacenter ranges": lambda: datacenter_ranges.load_provider_ranges(None, None),
        "verified crawlers' ranges": lambda: ipranges.load_ip_ranges(None),
        "the rest of the shield": lambda: ScrapeShield(create_gallery(), settings=Settings()),
    }
    found = {}
    for name, build in pieces.items():
        before, started = resident()[0], time.perf_counter()
        loaded[name] = build()
        found[name] = ((time.perf_counter() - started) * 1000, resident()[0] - before)
    return found


def once(src: Path | None, arg: str, mode: str = "--child") -> dict[str, Any]:
    """One fresh process's figures; `src` another checkout's."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SCRAPESHIELD_")}
    if src is not None:  # another checkout: its src before this venv's editable install
        env["PYTHONPATH"] = str(src)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_app_start", mode, arg],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the probe failed:\n{done.stderr}")
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


def where(top: int) -> None:
    """What the construction holds, by file, under tracemalloc (after import and construction)."""
    import tracemalloc

    snapshot = child(json.dumps([]), trace=True)["snapshot"]
    assert isinstance(snapshot, tracemalloc.Snapshot)
    stats = snapshot.statistics("filename")
    print(f"{sum(s.size for s in stats) / 2**20:.1f} MB traced after import and construction")
    for stat in stats[:top]:
        name = stat.traceback[0].filename.replace(sys.prefix, "<venv>")
        print(f"{stat.size / 2**20:>8.2f} MB {stat.count:>8} blocks  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="runs per side (default 5)")
    parser.add_argument("--against", type=Path, help="another checkout's src: side by side")
    parser.add_argument("--runs", action="store_true", help="also print every run, in order")
    parser.add_argument("--where", action="store_true", help="tracemalloc by file, once")
    parser.add_argument("--top", type=int, default=25, help="files --where prints")
    parser.add_argument("--steps", action="store_true", help="each piece of the construction")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-steps", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, trace=False)))
        return
    if args.child_steps is not None:
        print(json.dumps(steps_child()))
        return
    if args.where:
        where(args.top)
        return
    from tests.browsers import chrome

    headers = json.dumps([("host", "127.0.0.1:8000"), *chrome().items()])
    sides: dict[str, Path | None] = {"this": None}
    if args.against:
        sides["against"] = args.against.resolve()
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for _ in range(args.n):
        for side, src in sides.items():
            runs[side].append(once(src, "", "--child-steps") if args.steps else once(src, headers))
    if args.steps:
        report_steps(runs)
    else:
        report(runs, args.runs)


def report_steps(runs: dict[str, list[dict[str, Any]]]) -> None:
    """Median ms and resident MB added of each piece, side by side."""
    print(f"{'':<30}" + "".join(f"{s + ' ms':>14}{s + ' MB':>12}" for s in runs))
    for name in next(iter(runs.values()))[0]:
        cells = "".join(
            f"{statistics.median(r[name][0] for r in rs):>14.1f}"
            f"{statistics.median(r[name][1] for r in rs):>12.1f}"
            for rs in runs.values()
        )
        print(f"{name:<30}{cells}")


def report(runs: dict[str, list[dict[str, Any]]], every: bool) -> None:
    print(f"{'':<34}" + "".join(f"{s + ' best':>14}{s + ' median':>16}" for s in runs))
    rows: list[tuple[str, str, dict[str, list[float]]]] = []
    for name in TIMES:
        ms = {s: [r["times"][name] * 1000 for r in rs] for s, rs in runs.items()}
        rows.append((name, "ms", ms))
    for stage in MEMORY:
        for i, kind in enumerate(("resident", "peak")):
            values = {s: [r["memory"][stage][i] for r in rs] for s, rs in runs.items()}
            rows.append((f"{kind} MB after {stage}", "MB", values))
    for name, unit, values in rows:
        places = 2 if name.endswith("request") else 1
        cells = "".join(
            f"{min(v):>11.{places}f} {unit}{statistics.median(v):>13.{places}f} {unit}"
            for v in values.values()
        )
        print(f"{name:<34}{cells}")
        for side, v in values.items() if every else ():
            print(f"  {side + ' runs':<32}" + " ".join(f"{x:.2f}" for x in v))
    for side, rs in runs.items():
        print(f"{side}: redis-py imported {rs[0]['redis']}; answers {rs[0]['statuses']}")


if __name__ == "__main__":
    main()
