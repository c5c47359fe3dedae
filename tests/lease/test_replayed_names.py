"""`detector.signalled` and `replayed_names`: which signals a lease may replay (docs/leases.md,
"Replayed signals"). The detection loop only notes a replay-capable detector's signals; the
grant reads them by name, and one signal its detector cannot replay makes the request as
unsteady as any other detector's signal."""

from __future__ import annotations

from scrapeshield.detector import (
    REPLAY_NOTE,
    UNSTEADY_NOTE,
    RequestContext,
    replayed_names,
    signalled,
)
from scrapeshield.signals import Signal
from scrapeshield.store.memory import MemoryStore


class Replaying:
    replay_signals = frozenset({"test/counted"})


class Steady:
    steady_signals = True


class Counting:
    pass


def _ctx() -> RequestContext:
    return RequestContext(store=MemoryStore())


def test_a_replayable_signal_is_named_and_the_request_stays_leasable() -> None:
    ctx = _ctx()
    signalled(Replaying(), ctx, [Signal("test/counted", 15.0, "3 of 2")])
    signalled(Steady(), ctx, [Signal("test/steady", 20.0)])
    assert UNSTEADY_NOTE not in ctx.notes
    assert replayed_names(ctx) == frozenset({"test/counted"})


def test_a_signal_its_detector_cannot_replay_makes_the_request_unsteady() -> None:
    ctx = _ctx()
    signalled(Replaying(), ctx, [Signal("test/counted", 15.0), Signal("test/other", 25.0)])
    assert REPLAY_NOTE in ctx.notes  # noted in the loop, judged at the grant
    assert replayed_names(ctx) is None
    assert replayed_names(ctx) is None  # (worked out once, the same answer)


def test_a_detector_that_cannot_replay_is_unsteady_at_once() -> None:
    ctx = _ctx()
    signalled(Counting(), ctx, [Signal("test/counted", 15.0)])
    assert ctx.notes.get(UNSTEADY_NOTE) is True
    assert replayed_names(ctx) == frozenset()  # nothing to replay: the unsteady note decides
