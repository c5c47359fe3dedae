"""The requests waiting for one thing (a grant, a reservation, a full evaluation) wait on one
`Wakeup` (lease/lease.py): woken together, each by a future of its own (one cancelled, the
others still wait), and never past the thing's deadline, which one timer keeps for all of them,
whether or not the grant ever comes (docs/leases.md, "Waiting for the next lease")."""

from __future__ import annotations

import asyncio
import time

import pytest

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts, FactsBuilder
from scrapeshield.lease.lease import Bindings, Wakeup, binding
from scrapeshield.lease.order import KEY_NOTE, WAITED_NOTE, Order
from scrapeshield.settings import Settings
from scrapeshield.store import MemoryStore
from scrapeshield.synthetic import synthetic_scope

pytestmark = pytest.mark.both_loops


def _ctx() -> RequestContext:
    return RequestContext(MemoryStore(), [], False, {})


def _facts() -> Facts:
    return FactsBuilder(Settings()).build(synthetic_scope(path="/artworks/7"))


async def test_every_waiter_goes_on_at_the_wake_and_a_cancelled_one_alone() -> None:
    order, granting = Order(16, 8), _ctx()
    assert order.reserve("client", ("page", ()), granting, awaited=True)
    coming = order.reserving["client"][("page", ())]
    waiters = [coming.waiting() for _ in range(31)]
    waiters[3].cancel()  # (its request is gone: the others still wait for the grant)
    await asyncio.sleep(0.01)
    assert not any(w.done() for i, w in enumerate(waiters) if i != 3)
    assert order.judged("client", granting) is coming
    coming.wake()
    assert all(w.done() and not w.cancelled() for i, w in enumerate(waiters) if i != 3)
    assert coming.waiting().done()  # (woken: a request that comes now is not held)


async def test_the_deadline_holds_when_the_grant_never_comes() -> None:
    wakeup = Wakeup(time.monotonic() + 0.05)
    first = wakeup.waiting()
    await asyncio.sleep(0.02)
    later = wakeup.waiting()  # (the thing's deadline, not one of its own from now)
    await asyncio.wait_for(asyncio.gather(first, later), 2.0)  # never woken: its timer
    assert not wakeup.woken
    assert wakeup.waiting().done()  # past its deadline: not held


async def test_a_waiter_after_the_timer_is_not_held_whatever_the_loops_clock() -> None:
    """uvloop's timers run on libuv's millisecond clock, which can fire a little before
    `time.monotonic` reaches the deadline: a request that comes after the timer released the
    waiters is not held either (its deadline is then now)."""
    for _ in range(10):
        wakeup = Wakeup(time.monotonic() + 0.0105)  # (a fraction of a millisecond)
        await asyncio.wait_for(wakeup.waiting(), 2.0)
        assert wakeup.waiting().done()


async def test_a_waiter_waits_for_its_own_keys_grant_else_the_latest() -> None:
    facts = _facts()
    order = Order(16, 8)
    page = ("GET", "default", None)
    other, own = _ctx(), _ctx()
    order.reserve(facts.client_key, ("script", ("x",)), other, awaited=True)
    found = _ctx()
    order.successor(facts, page, found)  # (to learn its key)
    key = found.notes[KEY_NOTE]
    order.reserve(facts.client_key, key, own, awaited=True)
    order.reserve(facts.client_key, ("style", ("y",)), _ctx(), awaited=True)  # the latest
    keys = order.reserving[facts.client_key]
    waits = order.successor(facts, page, _ctx())
    assert waits is not False
    keys[key].wake()  # its own key's grant
    await asyncio.sleep(0)
    assert waits.done()
    keys[key].until = time.monotonic() - 1  # (past: another key's, the latest)
    later = order.successor(facts, page, _ctx())
    assert later is not False
    keys[("script", ("x",))].wake()
    await asyncio.sleep(0)
    assert not later.done()  # not the first's: the latest's
    keys[("style", ("y",))].wake()
    await asyncio.sleep(0)
    assert later.done()
    waited = _ctx()
    waited.notes[WAITED_NOTE] = True
    assert order.successor(facts, page, waited) is False  # (once only)


class _Counted(Bindings):
    """`Bindings`, counting its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __call__(self, facts: Facts) -> tuple[object, ...]:
        self.calls += 1
        return super().__call__(facts)


async def test_a_waiter_of_the_granting_requests_header_set_is_found_without_a_binding() -> None:
    builder, bindings = FactsBuilder(Settings()), _Counted()
    order, page = Order(16, 8, bindings), ("GET", "default", None)
    scope = synthetic_scope(path="/artworks/7")
    builder.build(scope)  # (kept at its second sight)
    granting, same = builder.build(scope), builder.build(scope)
    assert same.headers is granting.headers  # (the facts memo's: one dict per header set)
    key = (page, binding(granting))
    order.reserve(granting.client_key, key, _ctx(), awaited=True, facts=granting)
    order.reserve(granting.client_key, ("style", ("y",)), _ctx(), awaited=True)  # the latest
    ctx = _ctx()
    waits = order.successor(same, page, ctx)
    assert waits is not False
    assert bindings.calls == 0
    assert ctx.notes[KEY_NOTE] == key
    order.reserving[granting.client_key][key].wake()  # its own key's grant, not the latest
    await asyncio.sleep(0)
    assert waits.done()
    other = builder.build(synthetic_scope(path="/artworks/7", headers=[("accept", "text/css")]))
    elsewise = _ctx()
    assert order.successor(other, page, elsewise) is not False  # (the latest's)
    assert bindings.calls == 1
    assert elsewise.notes[KEY_NOTE] == (page, binding(other))
    image = ("GET", "images", None)  # the same header set, another kind: by its binding
    assert order.successor(same, image, _ctx()) is not False
    assert bindings.calls == 2
