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

import math

from scrapeshield.ratelimit.backends import Outcome


def add_rate_limit_headers(
    headers: list[tuple[bytes, bytes]],
    policy: tuple[bytes, bytes],
    outcome: Outcome,
    *,
    legacy: bool,
) -> None:
    """Append the fields for `outcome` to `headers`; `policy` is the plan's RateLimit-Policy
    field, built with the plan."""
    chosen = outcome.closest
    if chosen is None:
        return
    reset = max(0, math.ceil(chosen.reset))
    headers.append(policy)
    headers.append(
        (b"ratelimit", chosen.limit.field_prefix + b"%d;t=%d" % (chosen.remaining, reset))
    )
    if legacy:
        headers += [
            (b"x-ratelimit-limit", str(chosen.limit.quota).encode()),
            (b"x-ratelimit-remaining", str(chosen.remaining).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
