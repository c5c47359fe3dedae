"""Response fields for the limit closest to exhaustion (draft-ietf-httpapi-ratelimit-headers).

    RateLimit-Policy: "pages-client-30-10s";q=30;w=10, "pages-client-300-3600s";q=300;w=3600
    RateLimit: "pages-client-30-10s";r=12;t=7

`RateLimit-Policy` lists each policy of the request's group once; `RateLimit` reports one, the
one with the smallest share of its quota left (ties: the one that resets last), so clients are
never told two different things. With `legacy_headers`, `X-RateLimit-Limit`, `-Remaining` and
`-Reset` (seconds from now) describe the same limit. `Retry-After` is the responder's, on 429/503.
Remaining counts are in cost units (an original that costs 5 spends 5).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from scrapeshield.ratelimit.backends import LimitState
from scrapeshield.ratelimit.plan import Limit


def policy_name(group: str, limit: Limit) -> str:
    return f"{group}-{limit.scope}-{limit.quota}-{limit.window}s"


@functools.lru_cache(maxsize=1024)
def _policies(group: str, limits: tuple[tuple[str, int, int], ...]) -> bytes:
    """The RateLimit-Policy value: the same for every request of a group, so computed once."""
    return ", ".join(
        f'"{group}-{scope}-{quota}-{window}s";q={quota};w={window}'
        for scope, quota, window in limits
    ).encode("latin-1")


def closest(states: Sequence[LimitState], rejected: LimitState | None) -> LimitState:
    if rejected is not None:
        return rejected
    return min(states, key=lambda s: (s.remaining / max(1, s.limit.quota), -s.reset))


def rate_limit_headers(
    group: str, states: Sequence[LimitState], rejected: LimitState | None, *, legacy: bool
) -> list[tuple[bytes, bytes]]:
    if not states:
        return []
    policies = _policies(
        group, tuple((s.limit.scope, s.limit.quota, s.limit.window) for s in states)
    )
    chosen = closest(states, rejected)
    reset = max(0, math.ceil(chosen.reset))
    name = policy_name(group, chosen.limit)
    headers = [
        (b"ratelimit-policy", policies),
        (b"ratelimit", f'"{name}";r={chosen.remaining};t={reset}'.encode("latin-1")),
    ]
    if legacy:
        headers += [
            (b"x-ratelimit-limit", str(chosen.limit.quota).encode()),
            (b"x-ratelimit-remaining", str(chosen.remaining).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
    return headers
