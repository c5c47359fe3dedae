"""Rate limiting: Redis round trips per request, and HTTP throughput of the protected demo vs bare.

.venv/bin/python -m benchmarks.bench_ratelimit [--seconds 10] [--connections 32]

Starts its own redis-server on a free port, serves each app with one uvicorn worker on
127.0.0.1 and loads it with wrk (Debian's /usr/bin/wrk), one after another, so the ratios come
from one run on one machine. The path is an artwork page (group `default`: two client limits and
one network limit, all far above the load, so every request takes the full path to the app).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence

import redis
from tests.servers import RedisServer, free_port, wait_for_port

from benchmarks import apps
from scrapeshield import Settings, Shield
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import RedisStore

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
PATH = "/artworks/7"
# Everything Firefox sends on a navigation, so fingerprinting lets the requests reach the app.
BROWSER_HEADERS = (
    f"User-Agent: {UA}",
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language: en-GB,en;q=0.5",
    "Accept-Encoding: gzip, deflate",
)
LIMITS = {"limits": apps.CLIENT_LIMITS, "network_limits": apps.NETWORK_LIMITS}


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    server = RedisServer.start()
    try:
        yield server.url
    finally:
        server.close()


@contextlib.contextmanager
def uvicorn(factory: str, env: dict[str, str], stack: Sequence[str] = ()) -> Iterator[str]:
    """One uvicorn worker serving `factory`; `stack`: more options, e.g. ("--loop", "uvloop")."""
    with uvicorn_process(factory, env, stack) as (base, _):
        yield base


@contextlib.contextmanager
def uvicorn_process(
    factory: str, env: dict[str, str], stack: Sequence[str] = ()
) -> Iterator[tuple[str, int]]:
    """As `uvicorn`, also giving the server's process id (one worker runs in that process)."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", f"benchmarks.apps:{factory}", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--no-proxy-headers", "--no-access-log", "--log-level", "warning", *stack,
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        wait_for_port(port, timeout=20)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(20)


def wrk(url: str, seconds: int, connections: int) -> tuple[float, dict[str, int]]:
    """Requests per second; status counts and the requests sent (warm-up included)."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
        *[arg for header in BROWSER_HEADERS for arg in ("-H", header)], url + PATH,
    ]  # fmt: skip
    warm = subprocess.run(
        [*command[:3], "-d1s", *command[4:]], capture_output=True, text=True, check=True
    ).stdout
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if match is None:
        raise RuntimeError(out)
    sent = sum(int(m.group(1)) for m in re.finditer(r"(\d+) requests in", warm + out))
    return float(match.group(1)), {"non_2xx": int(non2xx.group(1)) if non2xx else 0, "sent": sent}


async def round_trips(url: str) -> tuple[float, float]:
    """Round trips per request: sequential requests, and 200 concurrent ones."""
    store = RedisStore(url, prefix="bench-rt:", timeout=2.0)
    settings = Settings(
        ratelimit={"groups": {"default": LIMITS}}, challenge={"secret_keys": [apps.BENCH_KEY]}
    )
    shield = Shield(settings, store=store)
    scope = synthetic_scope(path=PATH, user_agent=UA)
    await shield.decide(shield.facts(scope))
    before = store.round_trips
    for _ in range(200):
        await shield.decide(shield.facts(scope))
    sequential = (store.round_trips - before) / 200
    before = store.round_trips
    scopes = [synthetic_scope(path=PATH, user_agent=UA, ip=f"10.0.{n // 250}.{n % 250 + 1}")
              for n in range(200)]  # fmt: skip
    await asyncio.gather(*(shield.decide(shield.facts(s)) for s in scopes))
    concurrent = (store.round_trips - before) / 200
    await store.aclose()
    return sequential, concurrent


def commands_per_request(url: str, requests: float) -> str:
    with redis.Redis.from_url(url) as client:  # closed: an unclosed socket warns at GC
        stats = client.info("commandstats")
    calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    shown = {k: round(v / requests, 2) for k, v in sorted(calls.items()) if v / requests >= 0.01}
    return ", ".join(f"{k} {v}" for k, v in shown.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the apps; report medians")
    options = parser.parse_args()
    with redis_server() as url:
        sequential, concurrent = asyncio.run(round_trips(url))
        print(f"Redis round trips per request: {sequential:.2f} sequential, "
              f"{concurrent:.3f} with 200 concurrent requests")  # fmt: skip
        only = {"BENCH_DEFENCES": "ratelimit"}
        variants = [
            ("bare demo", "bare", {}),
            ("ratelimit only, memory", "protected", {**only, "BENCH_STORE_URL": "memory://"}),
            ("ratelimit only, redis", "protected", {**only, "BENCH_STORE_URL": url}),
            ("all defences, memory", "protected", {"BENCH_STORE_URL": "memory://"}),
            ("all defences, redis", "protected", {"BENCH_STORE_URL": url}),
        ]
        runs: dict[str, list[float]] = {label: [] for label, _, _ in variants}
        commands: dict[str, str] = {}
        admin = redis.Redis.from_url(url)
        for _ in range(options.rounds):  # alternate, so a noisy neighbour hits every variant
            for label, factory, env in variants:
                admin.config_resetstat()
                with uvicorn(factory, env) as base:
                    rps, statuses = wrk(base, options.seconds, options.connections)
                runs[label].append(rps)
                if label.endswith("redis"):  # the server's counts cover this app's run alone
                    commands[label] = commands_per_request(url, statuses["sent"])
                print(f"  {label:24} {rps:9.0f} req/s  {statuses}", flush=True)
        results = {label: statistics.median(values) for label, values in runs.items()}
        for label, rps in results.items():
            print(f"{label:24} {rps:9.0f} req/s (median of {options.rounds})")
        bare = results["bare demo"]
        for label, rps in list(results.items())[1:]:
            target = "85%" if label.endswith("memory") else "60%"
            print(f"{label:24} {rps / bare:4.0%} of bare (target {target})")
        for label, counts in commands.items():
            print(f"redis commands per request, {label} (Lua's own calls included): {counts}")


if __name__ == "__main__":
    main()
