"""The published figures: every variant side by side, on both production stacks, in one run.

.venv/bin/python -m benchmarks.run [--quick] [--seconds 6] [--rounds 3] [--out docs/benchmarks.md]

Serves the demo gallery (an artwork page, a Chrome link click's headers) with one uvicorn
worker per variant and loads it with wrk -t1 -c32 on 127.0.0.1. Variants: the bare gallery, a
pure-ASGI no-op middleware, slowapi (memory and Redis, the same client limits), scrapeshield with
rate limiting alone and as shipped (every defence, leases on), each on memory and Redis, and as
shipped with leases off (every request evaluated in full). Stacks: h11 +
asyncio and httptools + uvloop (`uvicorn[standard]`). The variants alternate for `--rounds`
rounds (every other round in reverse order) and the medians are reported, so a busy neighbour
slows every variant alike; a ratio to bare is worked out per round and its median and range over
the rounds are reported.

Per variant: requests/s, ratio to bare on the same stack, p50/p99 latency (wrk), the server
process's CPU µs per request (/proc), and for Redis variants the Redis server's CPU µs per
request (INFO cpu) and commands per request (INFO commandstats; Lua's own calls included). The
store's round trips per request are counted in process, sequentially and 200 at a time.
Then the bare gallery and scrapeshield as shipped on Redis with 1, 2 and 4 workers (`--quick`: 1
and 2).
The "person mix" rows load the same apps with benchmarks/person.py's traffic instead: returning
people, each with its own address and visitor cookie, viewing artwork pages in a random order with
their stylesheet, script and original (bare, as shipped on memory and Redis, and the same with
leases off), their ratios to the bare app under the same mix; `--quick` runs them on httptools +
uvloop only, without the leases-off rows. The "paced mix" rows (`--paced N`, 3,000
people by default, none under `--quick` unless given; 0 leaves them out): N people's page loads in
turn (each page with its stylesheet, script and original together), so a person's page loads come
seconds apart as a reader's do (the spacing at the measured rate is printed), bare and as shipped
in memory (leases on and off) and on Redis; `--paced-new` of its people (a quarter) are new
visitors (a token from a first page just before the run), the rest returning ones (a token issued
two days ago: benchmarks/person.py). `--quick` (2 s runs, one round) finishes in under two minutes
on a quiet host (1m45 here on 2026-12-06, 2m15 before the leases-on, now leases-off, rows and the
4-worker point were left to the full run). `--only "shipped"` runs the bare app (both mixes) and
the variants whose name holds that text (`"a|b"`: either), without the workers table (an A/B of
two trees: `--out` elsewhere, so docs/benchmarks.md stays the published run); `--stack` one stack
alone. The
"lane probe" rows (benchmarks/lane_probe.py: issue 19's fast lane's hit path, a probe, neither
exact nor shipped; "lane probe, record": its variant counting on a compact client record,
benchmarks/lane_record.py) report their hits as leased;
`--quick` leaves them out unless `--only` names them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from benchmarks import person
from benchmarks.bench_ratelimit import (
    PATH,
    redis_server,
    round_trips,
    uvicorn_process,
)

STACKS = {
    "h11 + asyncio": ("--http", "h11", "--loop", "asyncio"),
    "httptools + uvloop": ("--http", "httptools", "--loop", "uvloop"),
}
SHIPPED = {"BENCH_DEFENCES": "all"}
ALONE = {"BENCH_DEFENCES": "ratelimit"}
# Issue 19's targets, every defence as shipped, as a share of bare on the same stack.
TARGETS = {
    ("h11 + asyncio", "scrapeshield as shipped, memory"): 0.85,
    ("h11 + asyncio", "scrapeshield as shipped, Redis"): 0.75,
    ("httptools + uvloop", "scrapeshield as shipped, memory"): 0.75,
    ("httptools + uvloop", "scrapeshield as shipped, Redis"): 0.65,
}
QUICK_MIX_STACK = "httptools + uvloop"  # --quick: the person mix on this stack only
TICKS = os.sysconf("SC_CLK_TCK")
# A link click in Chrome, in the order Debian's Chromium sends it (fingerprint/data/
# header_captures.toml, `navigate-link`; wrk puts Host first and sends no Connection).
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
BROWSER_HEADERS = (
    'sec-ch-ua: "Not:A-Brand";v="8", "Chromium";v="156", "Google Chrome";v="156"',
    "sec-ch-ua-mobile: ?0",
    'sec-ch-ua-platform: "Linux"',
    "upgrade-insecure-requests: 1",
    f"user-agent: {CHROME}",
    "accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "sec-fetch-site: same-origin",
    "sec-fetch-mode: navigate",
    "sec-fetch-user: ?1",
    "sec-fetch-dest: document",
    "referer: http://127.0.0.1/",
    "accept-encoding: gzip, deflate, br, zstd",
    "accept-language: en-US,en;q=0.9",
)


@dataclass
class Runs:
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    redis_cpu: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)
    leased: list[float] = field(default_factory=list)  # share of the requests leased
    signals: Counter[str] = field(default_factory=Counter)  # person mix: must stay empty


PERSON = {"BENCH_PERSON": "on"}
LEASES_OFF = {"SCRAPESHIELD_LEASE__ENABLED": "false"}  # on as shipped since 2026-12-07
MIX = ", person mix"  # in a label: benchmarks/person.py's traffic, compared with bare's
# `--paced N`: N people's page loads in turn (benchmarks/bench_pace.py over HTTP); so many young
# visitors of one header fingerprint are a big site's, which raises these (docs/identity.md)
PACED = ", paced mix"
RECORD = {"BENCH_LANE_RECORD": "on"}  # the lane probe counting on a compact client record
PACED_PEOPLE = 3000  # at ~2,500-6,000 req/s, a person's page loads come ~2-5 s apart
BUSY_SITE = {
    "SCRAPESHIELD_IDENTITY__ROTATING_POOL__IDENTITIES": "1000",
    "SCRAPESHIELD_IDENTITY__ISSUANCE_PER_FINGERPRINT": "100000",
}


def mix_of(label: str) -> str:
    """A row's traffic: "" (one page), MIX or PACED; rows compare with bare's under the same."""
    return next((mix for mix in (MIX, PACED) if label.endswith(mix)), "")


def paced_variants(url: str) -> list[tuple[str, str, dict[str, str]]]:
    """`--paced`: bare, and as shipped in memory (leases on, as shipped, and off) and on Redis,
    under the paced mix."""
    memory = {"BENCH_STORE_URL": "memory://", **PERSON, **BUSY_SITE}
    shared = {"BENCH_STORE_URL": url, **PERSON, **BUSY_SITE}
    return [
        ("bare" + PACED, "bare", {}),
        ("scrapeshield as shipped, memory" + PACED, "protected", {**SHIPPED, **memory}),
        (
            "scrapeshield as shipped, memory, leases off" + PACED,
            "protected",
            {**SHIPPED, **memory, **LEASES_OFF},
        ),
        ("scrapeshield as shipped, Redis" + PACED, "protected", {**SHIPPED, **shared}),
        ("lane probe, memory" + PACED, "lane", {**SHIPPED, **memory}),
        ("lane probe, record, memory" + PACED, "lane", {**SHIPPED, **memory, **RECORD}),
    ]


def variants(url: str) -> list[tuple[str, str, dict[str, str]]]:
    memory, shared = {"BENCH_STORE_URL": "memory://"}, {"BENCH_STORE_URL": url}
    return [
        ("bare", "bare", {}),
        ("no-op middleware", "noop", {}),
        ("slowapi, memory", "slowapi", memory),
        ("slowapi, Redis", "slowapi", shared),
        ("scrapeshield rate limiting alone, memory", "protected", {**ALONE, **memory}),
        ("scrapeshield rate limiting alone, Redis", "protected", {**ALONE, **shared}),
        ("scrapeshield as shipped, memory", "protected", {**SHIPPED, **memory}),
        ("scrapeshield as shipped, Redis", "protected", {**SHIPPED, **shared}),
        # the one page with leases off (on as shipped: docs/leases.md), every request in full
        (
            "scrapeshield as shipped, memory, leases off",
            "protected",
            {**SHIPPED, **memory, **LEASES_OFF},
        ),
        (
            "scrapeshield as shipped, Redis, leases off",
            "protected",
            {**SHIPPED, **shared, **LEASES_OFF},
        ),
        # benchmarks/lane_probe.py: the fast lane's hit path, a probe (not exact, not shipped)
        ("lane probe, memory", "lane", {**SHIPPED, **memory}),
        ("lane probe, record, memory", "lane", {**SHIPPED, **memory, **RECORD}),
        ("bare" + MIX, "bare", {}),
        ("scrapeshield as shipped, memory" + MIX, "protected", {**SHIPPED, **memory, **PERSON}),
        ("scrapeshield as shipped, Redis" + MIX, "protected", {**SHIPPED, **shared, **PERSON}),
        (
            "scrapeshield as shipped, memory, leases off" + MIX,
            "protected",
            {**SHIPPED, **memory, **PERSON, **LEASES_OFF},
        ),
        (
            "scrapeshield as shipped, Redis, leases off" + MIX,
            "protected",
            {**SHIPPED, **shared, **PERSON, **LEASES_OFF},
        ),
        ("lane probe, memory" + MIX, "lane", {**SHIPPED, **memory, **PERSON}),
        ("lane probe, record, memory" + MIX, "lane", {**SHIPPED, **memory, **PERSON, **RECORD}),
    ]


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def redis_commands(client: redis.Redis) -> int:
    return sum(int(v["calls"]) for v in client.info("commandstats").values())


def wrk(
    base: str, seconds: float, connections: int, mix: Path | None = None
) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 in ms, and the requests sent in the measured run; with `mix`,
    the requests of that file (benchmarks/person.py) instead of one page."""
    if mix is not None:
        command = person.wrk_command(base, mix, seconds, connections)
    else:
        headers = [arg for header in BROWSER_HEADERS for arg in ("-H", header)]
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", *headers]
        command.append(base + PATH)
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    rps = p50 = p99 = 0.0
    sent = 0
    for line in out.stdout.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(words[1])
        elif words[:1] == ["50%"]:
            p50 = milliseconds(words[1])
        elif words[:1] == ["99%"]:
            p99 = milliseconds(words[1])
        elif "requests in" in line:
            sent = int(words[0])
        elif line.strip().startswith("Non-2xx"):
            raise RuntimeError(f"{base}: refused requests under load:\n{out.stdout}")
    if not rps:
        raise RuntimeError(out.stdout + out.stderr)
    return rps, p50, p99, sent


def milliseconds(text: str) -> float:
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text.removesuffix(unit)) * scale
    raise ValueError(text)


def served(
    options: argparse.Namespace,
    admin: redis.Redis,
    label: str,
    factory: str,
    env: dict[str, str],
    stack: tuple[str, ...],
    mixed: bool,
) -> tuple[float, float, float, float, float, int, int, dict[str, Any] | None]:
    """One variant's measured run: req/s, p50, p99, server CPU s, Redis CPU s and commands, the
    requests sent; for the shield under the person mix, what it counted (apps.BENCH_STATS)."""
    with tempfile.TemporaryDirectory() as folder:
        stats = Path(folder, "stats")  # (outlives the server: read once it stopped)
        # (the probe's hits as leased; one page with leases: its leases alone, no tally)
        counted = factory in ("protected", "lane") and (mixed or "leases off" not in label)
        if counted:
            env = {**env, "BENCH_STATS": str(stats), **({"BENCH_TALLY": "on"} if mixed else {})}
        with contextlib.ExitStack() as running:
            base, pid = running.enter_context(uvicorn_process(factory, env, stack))
            paced = mix_of(label) == PACED
            persons = options.paced if paced else options.connections
            new = options.paced_new if paced else 1.0  # (the person mix: first pages, as before)
            mix = (
                running.enter_context(
                    person.requests_file(base, persons, paced, new, options.paced_thumbs * paced)
                )
                if mixed
                else None
            )
            warm = wrk(base, 1, options.connections, mix)[3]  # warm-up: imports, caches, ...
            if paced:  # the warm-up's leases over (its page loads come again from the top)
                time.sleep(2.5)
            cpu, rcpu, rcalls = process_cpu(pid), redis_cpu(admin), redis_commands(admin)
            rps, p50, p99, sent = wrk(base, options.seconds, options.connections, mix)
            cpu = process_cpu(pid) - cpu
            rcpu, rcalls = redis_cpu(admin) - rcpu, redis_commands(admin) - rcalls
        figures = json.loads(stats.read_text()) if counted else None  # written at shutdown
        if figures is not None:
            figures["sent"] = warm + sent
    return rps, p50, p99, cpu, rcpu, rcalls, sent, figures


def paired(variant: list[float], bare: list[float]) -> tuple[float, float, float]:
    """The median, least and greatest of a round's figure over the same round's bare figure.

    Each round's pair was measured minutes apart at most, while this shared host's speed moves
    by up to 2x between runs: a ratio of medians taken over all rounds would mix one round's
    bare with another's variant, so the ratio is paired by round first."""
    ratios = [a / b for a, b in zip(variant, bare, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def spread(figures: tuple[float, float, float]) -> str:
    """`0.49` for one round, `0.49 (0.45-0.53)` for several."""
    middle, low, high = figures
    return f"{middle:.2f}" if low == high else f"{middle:.2f} ({low:.2f}-{high:.2f})"


def judged(shares: tuple[float, float, float], target: float) -> str:
    """A target is met only when every round meets it: a median over the line on a host whose
    rounds straddle it is the host's luck, not the shield's figure."""
    _, low, high = shares
    if low >= target:
        return "met"
    return "NOT met" if high < target else "NOT met in every round"


def only(options: argparse.Namespace, label: str) -> bool:
    """Whether `--only` names this variant (any of its texts between `|`; one ending in `$`:
    the variant's name ends so)."""
    return any(
        label.endswith(text[:-1]) if text.endswith("$") else text in label
        for text in options.only.split("|")
    )


def bare_needed(options: argparse.Namespace, label: str, order: list[str]) -> bool:
    """A bare row runs when a variant `--only` names has its traffic (one page, a mix)."""
    mix = mix_of(label)
    return any(
        mix_of(other) == mix and only(options, other)
        for other in order
        if not other.startswith("bare")
    )


def measure(options: argparse.Namespace, url: str) -> dict[tuple[str, str], Runs]:
    admin = redis.Redis.from_url(url)
    runs: dict[tuple[str, str], Runs] = {}
    for round_ in range(options.rounds):
        paced = paced_variants(url) if options.paced else []
        for stack, stack_args in STACKS.items():
            if options.stack and options.stack != stack:
                continue
            order = variants(url) + paced
            if round_ % 2:  # every other round backwards: no variant always runs last
                order.reverse()
            for label, factory, env in order:
                if options.only and not (
                    bare_needed(options, label, [name for name, _, _ in order])
                    if label.startswith("bare")
                    else only(options, label)
                ):
                    continue
                mixed = mix_of(label) != ""
                if mixed and options.quick and stack != QUICK_MIX_STACK:
                    continue
                extra = factory == "lane" or "leases off" in label  # a probe; not as shipped
                if extra and options.quick and not options.only:
                    continue  # not one of issue 19's rows: `--quick` stays under 2 minutes
                if mixed and "Redis" in label:
                    admin.flushdb()  # each from the same empty state (the addresses repeat)
                rps, p50, p99, cpu, rcpu, rcalls, sent, stats = served(
                    options, admin, label, factory, env, stack_args, mixed
                )
                if stats is not None:
                    run = runs.setdefault((stack, label), Runs())
                    run.signals.update(stats["signals"])
                    if "leased" in stats:  # (one page: of every request sent, warm-up too)
                        seen = sum(stats["decisions"].values()) or stats["sent"]
                        run.leased.append(stats["leased"] / seen)
                run = runs.setdefault((stack, label), Runs())
                run.rps.append(rps)
                run.p50.append(p50)
                run.p99.append(p99)
                run.cpu.append(cpu / sent * 1e6)
                if "Redis" in label:
                    run.redis_cpu.append(rcpu / sent * 1e6)
                    run.commands.append((rcalls - 3) / sent)  # less the three INFO calls
                print(f"round {round_ + 1} {stack:20} {label:42} {rps:8.0f} req/s", flush=True)
    admin.close()
    return runs


def scaling(options: argparse.Namespace, url: str) -> list[str]:
    """Throughput with 1, 2 and 4 workers on httptools + uvloop, bare and as shipped on Redis."""
    rows = [
        "",
        "## Workers",
        "",
        "httptools + uvloop, one shared Redis; req/s (median of the rounds).",
        "",
        "| workers | bare | scrapeshield as shipped, Redis | of bare |",
        "| ---: | ---: | ---: | ---: |",
    ]
    stack = (*STACKS["httptools + uvloop"], "--workers")
    for count in (1, 2) if options.quick else (1, 2, 4):
        figures: dict[str, list[float]] = {"bare": [], "shipped": []}
        for _ in range(options.rounds):
            for key, factory, env in (
                ("bare", "bare", {}),
                ("shipped", "protected", {**SHIPPED, "BENCH_STORE_URL": url}),
            ):
                with uvicorn_process(factory, env, (*stack, str(count))) as (base, _):
                    wrk(base, 1, options.connections)
                    figures[key].append(wrk(base, options.seconds, options.connections)[0])
        bare, shipped = (statistics.median(figures[k]) for k in ("bare", "shipped"))
        share = spread(paired(figures["shipped"], figures["bare"]))
        rows.append(f"| {count} | {bare:,.0f} | {shipped:,.0f} | {share} |")
        print(f"workers {count}: bare {bare:.0f}, shipped on Redis {shipped:.0f} req/s", flush=True)
    return rows


def report(
    options: argparse.Namespace, runs: dict[tuple[str, str], Runs], trips: str, rows: list[str]
) -> str:
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h (%s)"], capture_output=True, text=True, check=False
    ).stdout.strip()
    lines = [
        "# Benchmarks: what the shield costs, side by side",
        "",
        "<!-- generated by `python -m benchmarks.run`; edit benchmarks/run.py -->",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- commit: {commit[:100]}",
        f"- machine: {platform.system()} {platform.release()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs (shared), Python {platform.python_version()}",
        f"- command: `python -m benchmarks.run{' --quick' if options.quick else ''}`: "
        f"wrk -t1 -c{options.connections}, {options.seconds:g} s per run, "
        f"median of {options.rounds} interleaved round(s) (every other one in reverse order), "
        "one uvicorn worker",
        f"- store round trips per request (in process): {trips}",
        "",
        "| stack | variant | req/s | of bare | p50 ms | p99 ms | server CPU µs/req "
        "| of bare by CPU | Redis CPU µs/req | Redis commands/req | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    med = statistics.median
    leased, signalled, paced = [], [], []
    for stack in STACKS:
        for (row_stack, label), run in runs.items():
            if row_stack != stack:
                continue
            bare_run = runs[(stack, "bare" + mix_of(label))]
            shares = paired(run.rps, bare_run.rps)
            by_cpu = paired(bare_run.cpu, run.cpu)  # steadier than req/s on shared cores
            if run.leased:
                leased.append(f"{stack}, {label}: {med(run.leased):.1%}")
            if mix_of(label) == PACED:  # how far apart a person's page loads came
                apart = options.paced * (1 + len(person.ASSETS) + options.paced_thumbs)
                apart /= med(run.rps)
                paced.append(f"{stack}, {label.removesuffix(PACED)}: {apart:.1f} s")
            if run.signals:  # the mix is no longer a person's: benchmarks/person.py's check
                signalled.append(f"{stack}, {label}: {dict(run.signals)}")
            target = TARGETS.get((stack, label))
            verdict = ""
            if target is not None:
                verdict = f"≥{target:.2f} {judged(shares, target)}"
            redis_cells = (
                f"{med(run.redis_cpu):.1f} | {med(run.commands):.2f}" if run.redis_cpu else "- | -"
            )
            lines.append(
                f"| {stack} | {label} | {med(run.rps):,.0f} | {spread(shares)} "
                f"| {med(run.p50):.2f} | {med(run.p99):.2f} | {med(run.cpu):.0f} "
                f"| {spread(by_cpu)} | {redis_cells} "
                f"| {verdict} |"
            )
    if leased:
        lines += ["", "Requests leased (of every request seen; a lane probe's: its hits):", ""]
        lines += [f"- {line}" for line in leased]
    if paced:
        lines += [
            "",
            f"A person's page loads apart, paced mix ({options.paced} people, "
            f"{options.paced_new:.0%} new visitors, the rest returning"
            + (f", {options.paced_thumbs} thumbnails a page load" if options.paced_thumbs else "")
            + "):",
            "",
        ]
        lines += [f"- {line}" for line in paced]
    if any(mix_of(label) for _, label in runs):
        lines += ["", "Signals under the person mix (every decision tallied): "]
        lines[-1] += "SIGNALLED, see below" if signalled else "none: allows only"
        lines += [f"- {line}" for line in signalled]
    lines += rows
    lines += ["", Path(__file__).with_name("run_notes.md").read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs, one round (~2 minutes)")
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument(
        "--paced",
        type=int,
        default=None,
        metavar="PEOPLE",
        help=f"the paced mix's people ({PACED_PEOPLE}; 0: no paced rows; --quick: 0 unless given)",
    )
    person.add_new_share(parser)
    parser.add_argument(
        "--paced-thumbs",
        type=int,
        default=0,
        metavar="N",
        help="thumbnails a page load in the paced mix, through the app (0)",
    )
    parser.add_argument(
        "--only",
        help="only the variants whose name holds this text, or one of `a|b` (and bare); no "
        "workers table",
    )
    parser.add_argument("--stack", choices=sorted(STACKS), help="this stack alone")
    options = parser.parse_args()
    if options.quick:
        options.seconds, options.rounds = 2, 1
    if options.paced is None:
        options.paced = 0 if options.quick else PACED_PEOPLE
    with redis_server() as url:
        sequential, concurrent = asyncio.run(round_trips(url))
        trips = f"{sequential:.2f} one at a time, {concurrent:.3f} with 200 concurrent requests"
        runs = measure(options, url)
        rows = [] if options.only else scaling(options, url)
    text = report(options, runs, trips, rows)
    options.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
