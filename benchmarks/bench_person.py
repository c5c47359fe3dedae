"""The person mix in process: CPU µs per request, bare, as shipped, and with leases on.

.venv/bin/python -m benchmarks.bench_person [--rounds 5] [--persons 32] [--kinds] [--quirk]

benchmarks.run's person rows over HTTP swing by 10-30% on a shared machine; this calls the same
apps (`apps.bare`, `apps.protected` with `BENCH_PERSON=on`, memory store) as ASGI apps with
benchmarks/person.py's requests, one at a time in the file's order, alternating the apps round
by round, and prints the best round of each in process CPU µs (`time.process_time`), with the
leases granted and used (the shield's counts, `apps.BENCH_STATS`). `--kinds`: each request
timed on its own too, and the best round's CPU µs printed per kind of request (page, asset,
original), leased and evaluated in full apart (~1 µs a request more, for the timing).
`--quirk`: the people's browser never sends Accept-Language (a privacy browser's steady signal,
`headers/no-accept-language`, 20: allowed, and leased since issue 19's steady signals).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import apps, person
from benchmarks.bench_request import Driver
from scrapeshield.middleware import ScrapeShield

HOST = "127.0.0.1:8000"
QUIRK = "accept-language"  # the field `--quirk` leaves out


def scopes(text: str, quirk: bool = False) -> list[dict[str, Any]]:
    """The ASGI scopes of person.py's raw requests, header for header (`quirk`: but one)."""
    out = []
    for request in text.split("\r\n\r\n")[:-1]:
        line, *lines = request.split("\r\n")
        method, path, _ = line.split(" ")
        headers = [tuple(h.split(": ", 1)) for h in lines]
        if quirk:
            headers = [h for h in headers if h[0].lower() != QUIRK]
        out.append({
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        })  # fmt: skip
    return out


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def first_pages(app: Any, persons: int, quirk: bool = False) -> list[str]:
    """Each person's visitor cookie, from a first page the app serves it (as person.py's)."""
    cookies = []
    for who in range(persons):
        found: list[bytes] = []

        async def send(message: dict[str, Any], found: list[bytes] = found) -> None:
            if message["type"] == "http.response.start":
                found.extend(v for k, v in message["headers"] if k == b"set-cookie")

        headers = person.page(HOST, "/artworks/1", None, who)
        (scope,) = scopes(person.raw("/artworks/1", headers, who, None), quirk)  # (its address)
        await app(scope, receive, send)
        issued = [v.split(b";")[0].decode() for v in found if v.startswith(b"__ss_vid=")]
        cookies.append(issued[0] if issued else f"{person.COOKIE}={'x' * 96}")
    return cookies


async def compare(options: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-person-") as folder:
        await measure(options, Path(folder))


async def measure(options: argparse.Namespace, folder: Path) -> None:
    variants: dict[str, Any] = {}
    os.environ.update({"BENCH_STORE_URL": "memory://", "BENCH_PERSON": "on"})
    variants["bare"] = apps.bare()
    for leases in ("off", "on"):
        os.environ["SCRAPESHIELD_LEASE__ENABLED"] = "true" if leases == "on" else "false"
        os.environ["BENCH_STATS"] = str(folder / f"leases-{leases}.json")
        variants[f"as shipped, leases {leases}"] = apps.protected()
    drivers = {name: Driver(app, "/", image=False) for name, app in variants.items()}
    mixes = {}
    for name, driver in drivers.items():
        await driver.start()
        cookies = await first_pages(driver.app, options.persons, options.quirk)
        mixes[name] = scopes(person.schedule(HOST, cookies), options.quirk)
    best = dict.fromkeys(drivers, float("inf"))
    kinds: dict[str, dict[str, float]] = {name: {} for name in drivers}
    for _ in range(options.rounds):
        for name, driver in drivers.items():
            started = time.process_time()
            if options.kinds:
                await by_kind(driver, mixes[name], kinds[name])
            else:
                for scope in mixes[name]:
                    await driver.app(dict(scope), driver.receive, driver.send)
            spent = (time.process_time() - started) / len(mixes[name]) * 1e6
            best[name] = min(best[name], spent)
    for driver in drivers.values():
        await stopped(driver)
    quirk = ", no Accept-Language" if options.quirk else ""
    print(f"{len(mixes['bare'])} requests a round, {options.persons} people{quirk}; best of "
          f"{options.rounds} rounds, CPU µs per request (in process, memory store)")  # fmt: skip
    for name, spent in best.items():
        counts = ""
        if name != "bare":
            stats = json.loads((folder / f"leases-{name.rsplit(' ', 1)[1]}.json").read_text())
            if "granted" in stats:
                counts = f"  (leases granted {stats['granted']}, requests leased {stats['leased']})"
        print(f"  {name:24} {spent:6.1f}{counts}")
    for name, found in kinds.items():
        if found:
            print(f"  {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(found.items())))


async def by_kind(driver: Driver, mix: list[dict[str, Any]], best: dict[str, float]) -> None:
    """One round, each request timed: CPU µs per kind of request (leased and in full apart
    when the app grants leases), kept in `best` where lower than the best round so far."""
    leases = _leases_of(driver.app)
    spent: dict[str, float] = {}
    counts: Counter[str] = Counter()
    for scope in mix:
        used = leases.used if leases is not None else 0
        started = time.process_time()
        await driver.app(dict(scope), driver.receive, driver.send)
        took = time.process_time() - started
        kind = kind_of(scope["path"])
        names = [kind]
        if leases is not None:
            names.append(f"{kind} {'leased' if leases.used > used else 'in full'}")
        for name in names:
            spent[name] = spent.get(name, 0.0) + took
            counts[name] += 1
    for name, total in spent.items():
        best[name] = min(best.get(name, float("inf")), total / counts[name] * 1e6)


def kind_of(path: str) -> str:
    """A request's kind in the person mix: a work's page, an original, or an asset."""
    if path.startswith("/images/"):
        return "original"
    return "page" if path.startswith("/artworks/") else "asset"


async def stopped(driver: Driver) -> None:
    """The driver stopped, every request of the run having reached the app."""
    await driver.stop()
    if driver.statuses != {200}:
        raise RuntimeError(f"not every request reached the app: {sorted(driver.statuses)}")


def shield_of(app: Any) -> ScrapeShield | None:
    """The middleware in an app's stack (None: the bare app)."""
    layer = getattr(app, "middleware_stack", None)
    while layer is not None:
        if isinstance(layer, ScrapeShield):
            return layer
        layer = getattr(layer, "app", None)
    return None


def _leases_of(app: Any) -> Any:
    """The shield's lease table of an app the middleware wraps (None: bare, or leases off)."""
    shield = shield_of(app)
    return shield.shield.leases if shield is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--persons", type=int, default=32)
    parser.add_argument("--kinds", action="store_true", help="CPU µs per kind of request too")
    parser.add_argument("--quirk", action="store_true", help="no Accept-Language (a signal)")
    asyncio.run(compare(parser.parse_args()))


if __name__ == "__main__":
    main()
