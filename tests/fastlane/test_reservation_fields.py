"""A lease's reservation as another client of its network reads it in its RateLimit fields
(docs/leases.md, "Across workers: reservations"): the memory store, leases on against off, a
group that sends the fields (off by default). Every decision, status and other header agree.
On the shared (network) limit the fields are a lease's approximation: a client reads the
other's lease's unused reservation (at most `max_requests`) lower on the leased twin, and a
leased request reads its grant's count less its own leased requests, so higher by at most the
other client's requests since the grant."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tests.fastlane.differential import Twins
from tests.fastlane.test_replayed import LEASE, NEVER_REFUSING
from tests.fastlane.test_tokenless_deferred import neighbours

pytestmark = pytest.mark.both_loops

_FIELD = re.compile(rb'^"(?P<policy>[^"]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')


def _field(headers: list[tuple[bytes, bytes]]) -> tuple[bytes, int, bytes]:
    """The RateLimit field's policy, remaining and reset, and every other header."""
    value = dict(headers)[b"ratelimit"]
    found = _FIELD.match(value)
    assert found is not None, value
    rest = b"|".join(b"%s=%s" % h for h in headers if h[0] != b"ratelimit")
    return found["policy"], int(found["r"]), rest


async def test_a_shared_limit_s_fields_are_off_by_the_lease_s_bounds_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings: dict[str, Any] = copy.deepcopy(NEVER_REFUSING)
    settings["ratelimit"]["groups"]["default"]["headers"] = True
    twins = Twins(monkeypatch, fast=LEASE, expiry_slack=1.0, **settings)
    most = twins.fast.settings.lease.max_requests
    seen: list[int] = []
    sent: dict[str, int] = {}
    try:
        for request in neighbours(twins.clock.now):
            twins.clock.now += request.after
            fast, full = [await twins._turn_of(twin, request) for twin in twins.twins]
            twins.requests += 1
            where = f"request {twins.requests} from {request.ip}: {fast} against {full}"
            assert (fast.decision, fast.status) == (full.decision, full.status), where
            policy, left, rest = _field(fast.headers)
            policy_full, left_full, rest_full = _field(full.headers)
            assert (policy, rest) == (policy_full, rest_full), where
            # Lower by at most the other client's lease's unused reservation; higher by at
            # most the other client's requests since this client's grant (not counted here).
            other = sum(n for ip, n in sent.items() if ip != request.ip)
            assert -most <= left - left_full <= other, where
            seen.append(left - left_full)
            sent[request.ip] = sent.get(request.ip, 0) + 1
    finally:
        await twins.aclose()
    assert min(seen) < 0 < max(seen), seen  # (both were seen: the bounds were tested)
