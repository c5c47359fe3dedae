"""The order of one client's requests in flight (lease/order.py): a later request waits for a
lease holder's full evaluation on its way, and only within a deadline, so an evaluation that
is never judged (it failed) holds no later request beyond `SETTLE_TIMEOUT`."""

from __future__ import annotations

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
