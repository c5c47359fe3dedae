"""What the challenge costs: the server per request, and a crawler per request (hashes).

.venv/bin/python -m benchmarks.bench_challenge [challenges] [difficulties]
    e.g. ... 200 14,16,18,20,22

The per-difficulty table is what a scraper pays per pass with the cheapest client we could
write: Python's hashlib on one core, the nonce prefix hashed once and copied per counter.

A crawler that solves in Python pays 2**difficulty hashes per challenge on average; with a
pass reused for the cookie's lifetime that is spread over its requests, but a crawler that
rotates networks or user agents (which the pass is bound to) pays it on every request.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import statistics
import sys
import time

from scrapeshield import Settings, Shield
from scrapeshield.challenge import pow
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action, Decision

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def per_call(fn: object, n: int) -> float:
    assert callable(fn)
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


async def server_costs(shield: Shield) -> None:
    challenge = shield.challenge
    assert challenge is not None
    scope = synthetic_scope(user_agent=UA, path="/artworks/1", headers=[("accept", "text/html")])
    facts = shield.facts(scope)
    decision = Decision(Action.CHALLENGE, "score/challenge", score=50.0)
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        await challenge.respond(decision, facts)
    issue = (time.perf_counter() - start) / n * 1e6
    token = challenge.signer.sign("pass", {"b": challenge.binding(facts), "exp": 9e9})
    verify = per_call(
        lambda: challenge.signer.verify("pass", token, binding=challenge.binding(facts)), 20_000
    )
    nonce = secrets.token_urlsafe(16)
    check = per_call(lambda: pow.check(nonce, 12345, 16), 50_000)
    print(f"server: issue a challenge page      {issue:8.1f} µs")
    print(f"server: verify a pass cookie        {verify:8.1f} µs")
    print(f"server: check one proof of work     {check:8.1f} µs")


def crawler_costs(difficulty: int, challenges: int) -> None:
    hashes: list[int] = []
    start = time.perf_counter()
    for _ in range(challenges):
        nonce = secrets.token_urlsafe(16)
        counter = pow.solve(nonce, difficulty)
        assert counter is not None
        hashes.append(counter + 1)
    elapsed = time.perf_counter() - start
    rate = sum(hashes) / elapsed
    payload = b"x" * 24
    raw = per_call(lambda: hashlib.sha256(payload).digest(), 200_000)
    print(f"crawler: difficulty {difficulty} bits, {challenges} challenges solved in Python")
    print(
        f"  hashes per challenge: mean {statistics.mean(hashes):,.0f}  "
        f"median {statistics.median(hashes):,.0f}  (expected 2**{difficulty} = {2**difficulty:,})"
    )
    print(
        f"  Python solver: {rate:,.0f} hashes/s -> {statistics.mean(hashes) / rate * 1000:.0f} ms "
        f"per challenge on one core (bare sha256: {raw:.2f} µs)"
    )
    for reuse in (1, 100, 10_000):
        print(
            f"  hashes per request with a pass reused for {reuse:>6} requests: "
            f"{statistics.mean(hashes) / reuse:,.1f}"
        )


def fast_solve(nonce: str, difficulty: int) -> int:
    """The cheapest Python solver: the prefix's hash state copied per counter."""
    prefix = hashlib.sha256(f"{nonce}:".encode())
    counter = 0
    while True:
        h = prefix.copy()
        h.update(str(counter).encode())
        if pow.leading_zero_bits(h.digest()) >= difficulty:
            return counter
        counter += 1


def python_table(levels: list[int]) -> None:
    print("| difficulty | solves | Python p50 / p90 / mean (s) | hashes/s |")
    print("| --- | --- | --- | --- |")
    for difficulty in levels:
        solves = max(5, min(60, 2 ** (22 - difficulty)))
        times: list[float] = []
        hashes = 0
        for _ in range(solves):
            nonce = secrets.token_urlsafe(16)
            start = time.perf_counter()
            counter = fast_solve(nonce, difficulty)
            times.append(time.perf_counter() - start)
            assert pow.check(nonce, counter, difficulty)
            hashes += counter + 1
        ordered = sorted(times)
        p50, p90 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(0.9 * solves))]
        print(
            f"| {difficulty} | {solves} | {p50:.3f} / {p90:.3f} / {statistics.mean(times):.3f} "
            f"| {hashes / sum(times):,.0f} |",
            flush=True,
        )


async def main() -> None:
    challenges = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    if len(sys.argv) > 2:
        python_table([int(d) for d in sys.argv[2].split(",")])
        return
    shield = Shield(Settings(challenge={"secret_keys": ["benchmark-key-0123456789"]}))
    await server_costs(shield)
    crawler_costs(shield.settings.challenge.difficulty, challenges)
    await shield.aclose()


if __name__ == "__main__":
    asyncio.run(main())
