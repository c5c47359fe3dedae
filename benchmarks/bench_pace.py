"""The person mix at a person's pace, in process: what leases cost or save real page loads.

.venv/bin/python -m benchmarks.bench_pace [--pace 2] [--persons 2000] [--pages 6] [--thumbs 0]
    [--every-grant] [--store memory|redis] [--pieces [--first] | --shell]

benchmarks/person.py's mix (and `bench_person`) sends each of 32 people's requests hundreds of
times a second; a person loads a page with its stylesheet, script and original within a fraction
of a second, then reads for seconds. Here each of `--persons` people loads `--pages` artwork
pages (person.py's requests: page, stylesheet, script, original, and `--thumbs` thumbnails; each
person its own address and visitor cookie), one page load a burst, people taking turns, and no
person's next page load comes sooner than `--pace` seconds after its previous one (wall clock:
the loop sleeps when it runs ahead, and yields between page loads as a server's loop does; the
lease sweep's CPU is counted apart). Each burst goes to the bare app, the shipped app with
leases off and with leases on (`--every-grant`: also leases granted whatever the client's pace,
the design before), one after the other, so they see the same traffic at the same time. Printed:
CPU µs a request (`time.process_time`, each request timed) per variant and kind of request
(leased, in full, in full with a lease granted), the leases granted, used and unused, and the
check the figures rest on: every request reached the app, and every decision was a plain allow
with no signal. `--store redis`: a redis-server on a free port, a database per variant (the
CPU printed is this process's, not Redis's).

People are young visitors (their tokens were issued at the start): more than 16 of one header
fingerprint in 10 minutes are `identity/rotating-pool`, more than 30 new tokens per fingerprint
`identity/issuance-limited` (docs/identity.md: a busy site raises them). A site with thousands
of new visitors an hour on one browser build must raise them; so does this benchmark
(`rotating_pool.identities` 1000, `issuance_per_fingerprint` 100000), rather than invent
fingerprints: people speak one of person.py's 8 languages (so at most 8000 people).

`--lane`: bare, leases off, benchmarks/lane_probe.py's probe and its variant counting on a
compact client record (benchmarks/lane_record.py), each probe's requests split into hits and
full evaluations. `--pieces`: bare and leases off only; each detector's run and the facts'
build timed inside the request (`bench_detectors.instrument`, CPU µs per request of each
kind, the rest of the request printed as "shell": the middleware, the plan, the decision, the
response), and the garbage collector's CPU during the run apart (`gc.callbacks`); then the
shell's parts (`Pieces.shell`): the endpoint lookup, the request context, `decide_now` outside
the detectors, the ban read, the conclusion, the header wrapper, the app as the middleware
calls it against the bare app's request, and the rest (the middleware's own lines, the
collector, and the probe's own timings: ~0.3 µs each in a loop, ~20 a request). `--shell`:
the same without any timing inside the request: bare, leases off, leases off with every
detector removed, and a middleware that only builds the facts, side by side; per kind, what
leases off costs over bare split into detectors + shell + facts. `--first` (with `--pieces`): each
person's first page load (its first sights: a new client's first page, assets, original and
thumbnails) timed apart from the later ones, as `first page` and so on. `--persons 32 --pace 0` is
the fast mix's traffic (`bench_detectors`), the defaults the paced mix's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import apps, lane_probe, person
from benchmarks.bench_detectors import Spent, instrument, timed
from benchmarks.bench_person import HOST, _leases_of, first_pages, scopes
from benchmarks.bench_person import kind_of as person_kind
from benchmarks.bench_request import Driver, without
from benchmarks.run import BUSY_SITE
from scrapeshield import middleware
from scrapeshield.facts import FactsBuilder
from scrapeshield.shield import Shield

REQUESTS_EACH = 1 + len(person.ASSETS)  # a page load: the page and its assets
LANE = "lane probe"  # --lane: its variant
LANE_RECORD = "lane probe, record"  # --lane: the probe counting on its record (lane_record.py)
KINDS = ("page", "asset", "original", "thumbnail")
FIRSTS = tuple(f"first {kind}" for kind in KINDS)  # --pieces --first: a person's first page load


def page_loads(who: int, cookie: str, pages: int, thumbs: int) -> list[list[dict[str, Any]]]:
    """A person's page loads: each person.py's page, stylesheet, script and original, then
    `thumbs` thumbnails of the artworks that follow (`person.views`, again from its first page
    after its last)."""
    views = itertools.chain.from_iterable(
        person.views(who, HOST, cookie, thumbs) for _ in itertools.count()
    )
    return [
        scopes("".join(next(views) for _ in range(REQUESTS_EACH + thumbs))) for _ in range(pages)
    ]


def kind_of(path: str) -> str:
    """bench_person's kinds, and thumbnails."""
    return "thumbnail" if path.startswith("/thumbs/") else person_kind(path)


SHELL = ("endpoint", "context", "decide", "ban read", "conclude", "wrapper", "app")
"""The shell's parts `--pieces` times (`Pieces.shell`)."""


class Pieces:
    """`--pieces`: each detector, the facts' build, the shell's parts, the whole request and
    the garbage collector's passes, timed (`time.perf_counter`) under the current request's
    kind."""

    def __init__(self, first: bool = False) -> None:
        self.first = first  # a person's first page load apart (`first page`, ...)
        self.spent: Spent = defaultdict(float)
        self.counts: Counter[str] = Counter()
        self.kind = [""]  # the request being timed ("" between requests), as instrument reads it
        self.collecting = 0.0
        instrument(self.spent, self.kind)
        self.shell()
        gc.callbacks.append(self.collector)

    def shell(self) -> None:
        """Time the shell's parts inside the request: the endpoint lookup, the request
        context, `decide_now` (the detectors, the ban read and the conclusion in it, taken out
        in `report`), the header wrapper (`middleware._add_directives`, or `_add_headers` with
        other filters, run in the app's `send`), and the wrapped app as the middleware calls it
        (against the bare app's request)."""
        spent, kind = self.spent, self.kind
        for name, method in (
            ("endpoint", "endpoint_for"),
            ("context", "context"),
            ("decide", "decide_now"),
            ("ban read", "_ban_read"),
            ("conclude", "_conclude"),
        ):
            setattr(Shield, method, timed(name, getattr(Shield, method), spent, kind))
        middleware._add_headers = timed("wrapper", middleware._add_headers, spent, kind)
        middleware._add_directives = timed("wrapper", middleware._add_directives, spent, kind)
        init = middleware.ScrapeShield.__init__

        def timed_init(shielding: Any, app: Any, **options: Any) -> None:
            init(shielding, app, **options)
            # (the middleware makes a plain shield's context itself; here through `context`,
            # so that its part is timed)
            shielding._own_context = False
            inner = shielding.app

            async def timed_app(scope: Any, receive: Any, send: Any) -> None:
                started = time.perf_counter()
                try:
                    await inner(scope, receive, send)
                finally:
                    spent[kind[0], "app"] += time.perf_counter() - started

            shielding.app = timed_app

        middleware.ScrapeShield.__init__ = timed_init  # type: ignore[method-assign,assignment]

    def collector(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.collecting = time.perf_counter()
        else:
            self.spent[self.kind[0], f"gc{info['generation']}"] += (
                time.perf_counter() - self.collecting
            )

    def mean(self, kind: str) -> dict[str, float]:
        """Each piece's µs per request of `kind`."""
        return {n: v / self.counts[kind] * 1e6 for (k, n), v in self.spent.items() if k == kind}

    def report(self) -> None:
        """µs per request of each kind: the request beyond the bare app's, its pieces and the
        shell (the rest: middleware, plan, decision, response), and the collector's share."""
        print("  leases off, µs per request beyond bare's (wall clock inside the request):")
        for kind in (k for k in (*FIRSTS, *KINDS) if self.counts[k]):
            each, bare = self.mean(kind), self.mean(f"bare {kind}")
            request = each.pop("request") - bare["request"]
            collected = {n: each.pop(n) for n in sorted(each) if n.startswith("gc")}
            parts = {n: each.pop(n, 0.0) for n in SHELL}
            shell = request - sum(each.values())
            pieces = sorted([*each.items(), ("shell", shell)], key=lambda p: -p[1])
            print(
                f"    {kind:9} {request:.1f} (bare {bare['request']:.1f}): "
                + ", ".join(f"{name} {value:.1f}" for name, value in pieces)
                + "; of which collection "
                + (", ".join(f"{n} {v:.1f}" for n, v in collected.items()) or "none")
            )
            detectors = sum(v for n, v in each.items() if n != "facts")
            inside = {
                "endpoint": parts["endpoint"],
                "context": parts["context"],
                "decide_now's own": parts["decide"]
                - detectors
                - parts["ban read"]
                - parts["conclude"],
                "ban read": parts["ban read"],
                "conclusion": parts["conclude"],
                "header wrapper": parts["wrapper"],
                "the app's extra": parts["app"] - parts["wrapper"] - bare["request"],
            }
            inside["the rest"] = shell - sum(inside.values())
            print(
                f"      shell {shell:.1f}: "
                + ", ".join(f"{name} {value:.1f}" for name, value in inside.items())
            )


NO_DETECTOR, FACTS_ALONE = "as shipped, no detector", "facts alone"  # --shell: its variants


class FactsAlone:
    """A middleware that builds the request's facts (the shipped settings) and nothing else."""

    def __init__(self, app: Any) -> None:
        self.app, self.build = app, FactsBuilder(apps.bench_settings()).build

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.build(scope)
        await self.app(scope, receive, send)


def facts_alone() -> Any:
    app = apps.bare()
    app.add_middleware(FactsAlone)
    return app


def shell_rows(variants: list[Variant]) -> None:
    """`--shell`: CPU µs a request over bare's, per kind, of as shipped, of as shipped with
    every detector removed (the shell and the facts) and of a middleware building the facts
    alone; no timing inside the request, so none of `--pieces`' own cost."""
    each = {v.name: v for v in variants}
    bare, shipped = each["bare"], each["as shipped, leases off"]
    shell, facts = each[NO_DETECTOR], each[FACTS_ALONE]
    print("  CPU µs a request over bare's: as shipped = detectors + shell + facts")
    for kind in ("all", *KINDS):
        if not bare.counts[kind]:
            continue
        over = {v.name: v.per_request(kind) - bare.per_request(kind) for v in variants}
        print(
            f"    {kind:9} {over[shipped.name]:.1f} = detectors "
            f"{over[shipped.name] - over[shell.name]:.1f} + shell "
            f"{over[shell.name] - over[facts.name]:.1f} + facts {over[facts.name]:.1f}"
        )


class Variant:
    """One app, its people's page loads, and its CPU per kind of request."""

    def __init__(
        self, name: str, app: Any, stats: Path | None, pieces: Pieces | None = None
    ) -> None:
        self.name, self.driver, self.stats = name, Driver(app, "/", image=False), stats
        self.pieces = pieces
        self.probe: Any = None  # --lane: the lane probe, whose hits are counted apart
        self.loads: list[list[list[dict[str, Any]]]] = []  # per person, per page: its burst
        self.spent: dict[str, float] = {}
        self.counts: Counter[str] = Counter()
        self.swept = 0.0  # CPU seconds in the lease sweep (between page loads)

    async def start(self, persons: int, pages: int, thumbs: int) -> None:
        await self.driver.start()
        if self.name in (LANE, LANE_RECORD):
            self.probe = lane_probe.PROBES[-1]
        cookies = await first_pages(self.driver.app, persons)
        self.loads = [page_loads(who, cookie, pages, thumbs) for who, cookie in enumerate(cookies)]
        if (leases := self.leases) is not None:  # the sweep's CPU, counted apart
            sweep = leases.sweep

            def timed(now: float | None = None) -> None:
                started = time.process_time()
                sweep(now)
                self.swept += time.process_time() - started

            leases.sweep = timed

    @property
    def leases(self) -> Any:
        return _leases_of(self.driver.app)

    async def load(self, who: int, page: int) -> None:
        """One page load of one person, each request timed (leased, in full, and in full with
        a lease granted apart)."""
        leases = self.leases
        app, receive, send = self.driver.app, self.driver.receive, self.driver.send
        for scope in self.loads[who][page]:
            used, granted = (leases.used, leases.granted) if leases is not None else (0, 0)
            hits = self.probe.hits if self.probe is not None else 0
            kind = kind_of(scope["path"])
            if (pieces := self.pieces) is not None:
                key = f"first {kind}" if page == 0 and pieces.first else kind
                key = key if self.stats is not None else f"bare {key}"
                pieces.kind[0], pieces.counts[key] = key, pieces.counts[key] + 1
                timed = time.perf_counter()
            started = time.process_time()
            await app(dict(scope), receive, send)
            took = time.process_time() - started
            if pieces is not None:
                pieces.spent[key, "request"] += time.perf_counter() - timed
                pieces.kind[0] = ""
            names = ["all", kind]
            if leases is not None:
                how = "in full, granted" if leases.granted > granted else "in full"
                names.append(f"{kind} {'leased' if leases.used > used else how}")
            elif self.probe is not None:
                names.append(f"{kind} {'hit' if self.probe.hits > hits else 'in full'}")
            for name in names:
                self.spent[name] = self.spent.get(name, 0.0) + took
                self.counts[name] += 1

    def per_request(self, name: str = "all") -> float:
        return self.spent[name] / self.counts[name] * 1e6

    async def stop(self) -> dict[str, Any]:
        leases = self.leases
        await self.driver.stop()  # (every lease settled)
        held = (leases.granted, leases.used, leases.unused) if leases is not None else None
        if self.driver.statuses != {200}:
            raise RuntimeError(f"{self.name}: not every request reached the app")
        if self.stats is None:
            return {}
        figures: dict[str, Any] = json.loads(self.stats.read_text())
        if figures["signals"] or set(figures["decisions"]) != {"allow allow"}:
            raise RuntimeError(f"{self.name}: a person was not a plain allow: {figures}")
        if held is not None:
            figures["granted"], figures["leased"], figures["unused"] = held
        return figures


async def measure(options: argparse.Namespace, folder: Path, store: str) -> None:
    os.environ.update({"BENCH_STORE_URL": store, "BENCH_PERSON": "on", "BENCH_TALLY": "on"})
    os.environ.update(BUSY_SITE)
    pieces = Pieces(options.first) if options.pieces else None
    variants = [Variant("bare", apps.bare(), None, pieces)]
    shipped = 1 if pieces or options.lane or options.shell else 3 if options.every_grant else 2
    for leases in ("off", "on", "on, every grant")[:shipped]:
        os.environ["SCRAPESHIELD_LEASE__ENABLED"] = "false" if leases == "off" else "true"
        stats = folder / f"leases-{len(variants)}.json"
        os.environ["BENCH_STATS"] = str(stats)
        if store != "memory://":  # each its own Redis database: the counts do not mix
            os.environ["BENCH_STORE_URL"] = f"{store.rsplit('/', 1)[0]}/{1 + len(variants)}"
        variants.append(Variant(f"as shipped, leases {leases}", apps.protected(), stats, pieces))
    if options.shell:  # the shell and the facts without any timing (see `shell_rows`)
        os.environ["BENCH_STATS"] = str(folder / "bare-shell.json")
        variants.append(Variant(NO_DETECTOR, without("every detector"), folder / "bare-shell.json"))
        variants.append(Variant(FACTS_ALONE, facts_alone(), None))
    if options.lane:  # the probe: its shutdown writes its hits as a tally of plain allows
        os.environ["SCRAPESHIELD_LEASE__ENABLED"] = "false"
        os.environ["BENCH_STATS"] = str(folder / "lane.json")
        variants.append(Variant(LANE, apps.lane(record=False), folder / "lane.json"))
        os.environ["BENCH_STATS"] = str(folder / "lane-record.json")
        variants.append(Variant(LANE_RECORD, apps.lane(record=True), folder / "lane-record.json"))
    for variant in variants:
        await variant.start(options.persons, options.pages, options.thumbs)
    if options.every_grant:  # the design before: a lease for every clean full evaluation
        variants[-1].leases._seen_again = lambda facts, kind: True
    gc.collect()
    gc.freeze()  # the apps and the people's requests, built: not walked by every collection
    last = [0.0] * options.persons
    wall = time.monotonic()
    for page in range(options.pages):
        for who in range(options.persons):
            # (a server's loop runs other tasks between requests: the lease sweep among them)
            await asyncio.sleep(max(0.0, last[who] + options.pace - time.monotonic()))
            last[who] = time.monotonic()
            turn = who % len(variants)  # each variant first as often (a cold cache after a sleep)
            for variant in variants[turn:] + variants[:turn]:
                await variant.load(who, page)
    wall = time.monotonic() - wall
    figures = [await variant.stop() for variant in variants]
    each = REQUESTS_EACH + options.thumbs
    total = options.persons * options.pages * each
    print(
        f"{options.persons} people, {options.pages} page loads each ({total} requests a variant, "
        f"{each} a page load), page loads of one person at least {options.pace:g} s "
        f"apart ({wall:.0f} s); {store.split(':')[0]} store; CPU µs a request, in process"
    )
    for variant, found in zip(variants, figures, strict=True):
        counts = ""
        if variant.probe is not None:
            counts = f"  (hits {variant.probe.hits / total:.1%} of its requests)"
        elif "granted" in found:
            swept = variant.swept / total * 1e6
            counts = (
                f"  (+{swept:.1f} sweep; leases granted {found['granted']}, "
                f"unused {found['unused']}, requests leased {found['leased']})"
            )
        print(f"  {variant.name:24} {variant.per_request():6.1f}{counts}")
    for variant in variants:
        kinds = sorted(k for k in variant.counts if k != "all")
        shown = (f"{k} {variant.per_request(k):.1f} ({variant.counts[k]})" for k in kinds)
        print(f"  {variant.name}: " + ", ".join(shown))
    if pieces is not None:
        pieces.report()
    if options.shell:
        shell_rows(variants)


@contextlib.contextmanager
def store_url(store: str) -> Iterator[str]:
    if store == "memory":
        yield "memory://"
        return
    from benchmarks.bench_ratelimit import redis_server

    with redis_server() as url:
        yield url


async def compare(options: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="bench-pace-") as folder,
        store_url(options.store) as store,
    ):
        await measure(options, Path(folder), store)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pace", type=float, default=2.0, help="seconds between page loads")
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=6, help="page loads per person")
    parser.add_argument("--thumbs", type=int, default=0, help="thumbnails per page load")
    parser.add_argument("--store", choices=("memory", "redis"), default="memory")
    parser.add_argument(
        "--every-grant", action="store_true", help="also leases granted whatever the pace (before)"
    )
    parser.add_argument(
        "--lane",
        action="store_true",
        help="the lane probe (lane_probe.py) and its record (lane_record.py) beside leases off",
    )
    parser.add_argument(
        "--pieces", action="store_true", help="leases off only: each detector's µs, and the rest"
    )
    parser.add_argument(
        "--first",
        action="store_true",
        help="with --pieces: each person's first page load apart (its first sights)",
    )
    parser.add_argument(
        "--shell",
        action="store_true",
        help="leases off, every detector removed and the facts alone: the shell, untimed",
    )
    options = parser.parse_args()
    if (options.pieces or options.shell) and (options.every_grant or options.lane):
        parser.error("--pieces and --shell measure leases off alone")
    if options.first and not options.pieces:
        parser.error("--first splits --pieces' figures")
    if options.pieces and options.shell:
        parser.error("--shell measures without --pieces' timings")
    if options.persons > len(person.LANGUAGES) * 1000:  # (rotating_pool.identities' most)
        parser.error(f"at most {len(person.LANGUAGES) * 1000} people")
    asyncio.run(compare(options))


if __name__ == "__main__":
    main()
