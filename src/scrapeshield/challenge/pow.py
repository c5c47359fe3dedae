"""Proof of work: find `counter` so SHA-256(nonce ":" counter) starts with `difficulty` zero bits.

Expected work is 2**difficulty hashes for the client and exactly one for the server. The
difficulty grows with how far the request's score is above the challenge threshold, so the
clients that look most like crawlers pay the most.
"""

from __future__ import annotations

import hashlib
import math

MAX_COUNTER_DIGITS = 20


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def digest_for(nonce: str, counter: int) -> bytes:
    return hashlib.sha256(f"{nonce}:{counter}".encode("ascii")).digest()


def parse_counter(text: str) -> int | None:
    """A client's counter: plain decimal digits, bounded in length; None if anything else."""
    if not text or len(text) > MAX_COUNTER_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def check(nonce: str, counter: int, difficulty: int) -> bool:
    return leading_zero_bits(digest_for(nonce, counter)) >= difficulty


def solve(nonce: str, difficulty: int, *, start: int = 0, limit: int | None = None) -> int | None:
    """What a client does (used by tests and benchmarks): the first counter that works."""
    counter = start
    end = None if limit is None else start + limit
    while end is None or counter < end:
        if check(nonce, counter, difficulty):
            return counter
        counter += 1
    return None


def difficulty_for(
    score: float,
    threshold: float,
    *,
    base: int,
    step: float,
    maximum: int,
    budget_use: float = 0.0,
    budget_free: float = 0.5,
    budget_step: float = 0.25,
) -> int:
    """`base` bits at the challenge threshold, one more per `step` points above it, and one
    more per `budget_step` of budget used beyond `budget_free` (a fraction: 1.0 is the whole
    budget of originals), capped at `maximum`. Each bit doubles the expected work."""
    extra = 0
    above = score - threshold
    if math.isinf(above) and above > 0:
        return maximum
    if not math.isnan(above) and above > 0:
        extra += int(above // step)
    spent = budget_use - budget_free
    if math.isinf(spent) and spent > 0:
        return maximum
    if not math.isnan(spent) and spent > 0:
        extra += int(spent // budget_step)
    return min(maximum, base + extra)
