"""User-agent classification cost: repeated (cached) and never-seen (up to the length cap),
corpus agents and the hostile ones a flood would send (random text, many fields, parentheses).

Side by side in one run: scrapeshield's classifier (catalogue matcher + ua-parser 1.x Rust
resolver + LRU) and `user_agents.parse` (ua-parser's legacy pure-`re` path) on the same strings.

.venv/bin/python -m benchmarks.bench_useragent
.venv/bin/python -m benchmarks.bench_useragent --against ../main/src

`--against` loads another checkout's classifier too (its `src`) and times the two on each
never-seen agent of the corpus and hostile lines, one after the other in alternating order, so
both see the same load: figures of separate runs a minute apart differ by more than a change.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import random
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

import user_agents
from tests.ua_corpus import CORPUS, load

from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store import MemoryStore

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def corpus_uas(limit: int = 30_000) -> list[str]:
    """Distinct real agents of the labelled corpus (browsers, bots, apps; not the generated or
    spoofed ones, nor round six's dev-new pool, so the sample stays that of round five), capped
    like Facts."""
    if not CORPUS.is_file():
        return []
    uas = sorted(s.ua for s in load() if s.label in {"browser", "bot", "app"} and not s.new)
    random.Random(3).shuffle(uas)
    cap = Settings().user_agent_max_length
    return [ua[:cap] for ua in uas[:limit]]


def unique_uas(count: int, length: int, rng: random.Random) -> list[str]:
    """Distinct browser-shaped user agents padded with random words to `length` characters."""
    out = []
    for i in range(count):
        pad = "".join(rng.choices(string.ascii_letters + " ;/()._-", k=length))
        out.append((f"{CHROME} {i} {pad}")[:length])
    return out


PRINTABLE = string.printable[:95]  # letters, digits, punctuation and the space
UA_ALPHABET = string.ascii_letters + string.digits + " ;/()._-,:"


def _word(rng: random.Random, low: int = 1, high: int = 8) -> str:
    return "".join(rng.choices(string.ascii_letters, k=rng.randint(low, high)))


def hostile_uas(count: int, cap: int, rng: random.Random) -> dict[str, list[str]]:
    """Never-seen agents a flood can send to make each classification cost most, each as long
    as the shield classifies (`cap`, Facts' user_agent_max_length): none names a browser or an
    engine, so each reaches the rules for agents that lack a browser's form (the costliest path:
    every name and device search reads the whole text)."""
    lines: dict[str, Callable[[int], str]] = {
        "random printable": lambda i: "".join(rng.choices(PRINTABLE, k=cap)),
        "Mozilla/5.0 ( + random printable": lambda i: (
            "Mozilla/5.0 (" + "".join(rng.choices(PRINTABLE, k=cap))
        ),
        "random user-agent characters": lambda i: "".join(rng.choices(UA_ALPHABET, k=cap)),
        "Mozilla/5.0 ( + many ; fields": lambda i: (
            "Mozilla/5.0 (" + "; ".join(_word(rng) for _ in range(cap // 4))
        ),
        "many parentheses": lambda i: " ".join(
            f"{_word(rng)}/{i} ({_word(rng)}; ({_word(rng)}))" for _ in range(cap // 12)
        ),
        "Mozilla/5.0 (X11) + random words": lambda i: (
            f"Mozilla/5.0 (X11; {i}) " + " ".join(_word(rng, 3, 10) for _ in range(cap // 5))
        ),
        "repeated product token": lambda i: f"Foo/{i} " + "Foo/1.0 " * (cap // 8),
    }
    return {name: [make(i)[:cap] for i in range(count)] for name, make in lines.items()}


def p99_call(fn: Callable[[str], object], uas: list[str]) -> tuple[float, float]:
    """Median and 99th percentile of one call each, in µs (wall clock)."""
    wall, _ = p99_calls(fn, uas)
    return wall


def p99_calls(
    fn: Callable[[str], object], uas: list[str]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median and 99th percentile of one call each, in µs: on the wall clock, and in the
    thread's CPU time, which leaves out the time other processes on the machine take the core
    (on the shared 2-core machine a preemption costs a call milliseconds of wall time)."""
    wall, cpu = [], []
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    for ua in uas:
        start, cpu_start = clock(), cpu_clock()
        fn(ua)
        cpu.append(cpu_clock() - cpu_start)
        wall.append(clock() - start)

    return median_p99(wall), median_p99(cpu)


def median_p99(times: list[int]) -> tuple[float, float]:
    """Median and 99th percentile of nanosecond times, in µs."""
    times.sort()
    return times[len(times) // 2] / 1e3, times[int(len(times) * 0.99)] / 1e3


def per_call(fn: Callable[[str], object], uas: list[str]) -> float:
    start = time.perf_counter()
    for ua in uas:
        fn(ua)
    return (time.perf_counter() - start) / len(uas) * 1e6


FINGERPRINT = "scrapeshield.fingerprint."


async def detectors_per_request(iterations: int = 50_000) -> float:
    """All fingerprint detectors on one request with a repeated browser UA and its headers."""
    settings = Settings()
    shield = Shield(settings, store=MemoryStore())
    headers = [
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        ("accept-language", "en-GB,en;q=0.9"),
        ("accept-encoding", "gzip, deflate, br"),
    ]
    facts = shield.facts(synthetic_scope(user_agent=CHROME, headers=headers, scheme="http"))
    # The fingerprint package's detectors only: shield.detectors also holds behaviour, identity,
    # rate limiting and the pass, whose counters 50,000 requests of one client would exhaust.
    detectors = [d for d in shield.detectors if type(d).__module__.startswith(FINGERPRINT)]
    start = time.perf_counter()
    for _ in range(iterations):
        ctx = shield.context()
        for detector in detectors:
            await detector.detect(facts, ctx)
    elapsed = (time.perf_counter() - start) / iterations * 1e6
    await shield.aclose()
    return elapsed


def _line(label: str, classifier: UAClassifier, uas: list[str]) -> str:
    (median, p99), (cpu_median, cpu_p99) = p99_calls(classifier.classify, uas)
    return (
        f"{label:<46} median {median:6.1f} µs, p99 {p99:6.1f} µs"
        f" (CPU time: {cpu_median:6.1f}, {cpu_p99:6.1f})"
    )


def classifier_from(src: Path) -> Callable[[str], object]:
    """`UAClassifier.classify` of the checkout whose package is under `src` (another branch's),
    imported with its own modules, then this checkout's modules put back: each classifier keeps
    the functions and data of its own tree."""

    def ours() -> dict[str, object]:
        return {k: m for k, m in sys.modules.items() if k.split(".")[0] == "scrapeshield"}

    saved = ours()
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(src))
    try:
        catalogue = importlib.import_module("scrapeshield.fingerprint.catalogue")
        uaclass = importlib.import_module("scrapeshield.fingerprint.uaclass")
        other = uaclass.UAClassifier(catalogue.load_catalogue(), cache_size=4096)
        other.warm()
    finally:
        sys.path.remove(str(src))
        for name in ours():
            del sys.modules[name]
        sys.modules.update(saved)  # type: ignore[arg-type]
    return other.classify  # type: ignore[no-any-return]


def side_by_side(src: Path) -> None:
    """This checkout's classifier and `src`'s on each never-seen agent, in alternating order."""
    theirs = classifier_from(src)
    ours = UAClassifier(load_catalogue(), cache_size=4096)
    ours.warm()
    lines = {f"never-seen corpus UAs ({src} / this checkout)": corpus_uas()}
    cap = Settings().user_agent_max_length
    lines |= {f"hostile, {k}": v for k, v in hostile_uas(3000, cap, random.Random(7)).items()}
    shaped = unique_uas(3000, cap, random.Random(7))  # as main() times them: each one distinct
    lines[f"never-seen {cap}-char UA"] = [f"{ua[:-4]}#{i}" for i, ua in enumerate(shaped)]
    clock = time.perf_counter_ns
    for label, uas in lines.items():
        times: tuple[list[int], list[int]] = ([], [])
        for i, ua in enumerate(uas):
            for side in (0, 1) if i % 2 else (1, 0):
                classify = theirs if side == 0 else ours.classify
                start = clock()
                classify(ua)
                times[side].append(clock() - start)
        (a, a99), (b, b99) = (median_p99(t) for t in times)
        print(
            f"{label:<46} median {a:6.1f} / {b:6.1f} µs ({b / a:4.2f}x),"
            f" p99 {a99:6.1f} / {b99:6.1f} µs ({b99 / a99:4.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", type=Path, help="another checkout's src: side by side")
    args = parser.parse_args()
    if args.against:
        side_by_side(args.against)
        return
    cap = Settings().user_agent_max_length
    classifier = UAClassifier(load_catalogue(), cache_size=4096)
    classifier.warm()
    user_agents.parse(CHROME)
    rng = random.Random(7)

    per_request = asyncio.run(detectors_per_request())
    print(f"repeated UA, all fingerprint detectors per request: {per_request:6.2f} µs")
    repeated = [CHROME] * 200_000
    print(
        f"repeated UA, scrapeshield classify:    {per_call(classifier.classify, repeated):8.2f} µs"
    )
    legacy = per_call(user_agents.parse, [f"{CHROME} {i}" for i in range(2000)])
    print(f"never-seen {len(CHROME) + 5}-char UA, user_agents.parse: {legacy:8.1f} µs")
    corpus = corpus_uas()
    if corpus:
        print(_line(f"never-seen corpus UAs ({len(corpus)}, tests/data/ua):", classifier, corpus))
    for name, uas in hostile_uas(3000, cap, rng).items():
        print(_line(f"hostile, {name}:", classifier, uas))
    for length in (128, cap, 5000):
        uas = unique_uas(3000, length, rng)
        capped = [ua[:cap] for ua in uas]  # Facts caps the UA before any detector sees it
        ours = per_call(classifier.classify, capped)
        _, ours_p99 = p99_call(
            classifier.classify, [f"{ua[:-4]}#{i}" for i, ua in enumerate(capped)]
        )
        theirs = per_call(user_agents.parse, uas[:200])
        print(
            f"never-seen {length:>4}-char UA: scrapeshield {ours:8.1f} µs, p99 {ours_p99:6.1f}"
            f" (capped to {cap})"
            f" | user_agents.parse {theirs:9.1f} µs | ratio {theirs / ours:6.1f}x"
        )


if __name__ == "__main__":
    main()
