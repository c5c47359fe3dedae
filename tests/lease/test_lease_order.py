"""The order of one client's requests in flight (lease/order.py): a later request waits for a
lease holder's full evaluation on its way, and only within a deadline, so an evaluation that
is never judged (it failed) holds no later request beyond `SETTLE_TIMEOUT`."""

from __future__ import annotations

import asyncio
import time

import pytest

from scrapeshield.detector import RequestContext
from scrapeshield.lease.order import Order
from scrapeshield.lease.reservation import SETTLE_TIMEOUT
from scrapeshield.store import MemoryStore


def _ctx() -> RequestContext:
    return RequestContext(MemoryStore(), [], False, {})


def test_a_later_request_waits_for_an_earlier_flight_and_not_past_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    flights = Order(16, 8)
    first, later = _ctx(), _ctx()
    flights.place(first)
    flights.place(later)
    flights.flight("client", first)
    assert flights.before("client", later) is not None  # earlier, on its way: waited for
    assert flights.before("client", first) is None  # its own: not
    now[0] += SETTLE_TIMEOUT + 0.1  # never judged (it failed): forgotten
    assert flights.before("client", later) is None


def test_a_judged_flight_is_no_longer_waited_for() -> None:
    flights = Order(16, 8)
    first, later = _ctx(), _ctx()
    flights.place(first)
    flights.place(later)
    flights.flight("client", first)
    flights.judged("client", first)
    assert flights.before("client", later) is None


async def test_a_later_request_waits_behind_an_earlier_one_that_waits_within_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/leases.md, "Waiting for the next lease" (5): a request placed behind one of its
    client that waits waits for the same, until that one asks again; one that never does (its
    request cancelled) holds the later ones only until `SETTLE_TIMEOUT`."""
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    order = Order(16, 8)
    first, later, other = _ctx(), _ctx(), _ctx()
    for ctx in (first, later, other):
        order.place(ctx)
    waits = asyncio.get_running_loop().create_future()
    order.hold("client", first, waits)
    assert order.ahead("client", later) is waits  # behind it, woken after it
    assert order.ahead("elsewhere", other) is None  # another client's: not
    assert order.ahead("client", first) is None  # it asks again: it goes on, and so do they
    assert order.ahead("client", later) is None
    order.hold("client", first, waits)
    now[0] += SETTLE_TIMEOUT + 0.1  # never asked again (cancelled): forgotten
    assert order.ahead("client", later) is None
    assert not order.waiting
