"""The `[lease]` settings section (docs/leases.md)."""

from __future__ import annotations

from pydantic import Field

from scrapeshield.settings_base import Section

MAX_SECONDS = 60.0
"""The longest `seconds`: no lease outlives its grant by more (behaviour's walk check relies
on it: `behaviour.leasing.aging`)."""


class LeaseSettings(Section):
    """How long a clean client may skip the detectors (on by default since 2026-12-07;
    docs/leases.md; `enabled = false`: every request evaluated in full).

    `requests`: at most this many requests per lease (each detector may allow fewer);
    `max_requests`: a lease whose client used all of its requests before its time is followed
    by one of twice as many, up to this (below `requests`: never grown), so a fast client's
    grants, each a full evaluation, become rare (docs/leases.md, "A lease grows with its
    client's pace"); after any other end, `requests` again;
    `seconds`: a lease ends this long after it was granted (also the longest a ban written by
    another worker or host, or a count made elsewhere, can go unseen here);
    `max_clients`: leases held at once (a flood of clients evicts the oldest, settled first),
    and the most times of clean full evaluations kept per client and lease key (a lease goes
    only to a client seen again within `seconds`: docs/log/leases.md, "Granted only to a client
    seen again")."""

    enabled: bool = True
    requests: int = Field(default=8, ge=1, le=1000)
    seconds: float = Field(default=1.0, gt=0, le=MAX_SECONDS)
    max_requests: int = Field(default=128, ge=1, le=10_000)
    max_clients: int = Field(default=10_000, ge=16, le=10_000_000)
