"""Hourly budgets slide (docs/identity.md#a-sliding-hour): the previous clock hour's count is
weighed by the part of it still within the last 60 minutes, so a client that takes its hour in
the last minute of one clock hour gets no fresh hour at the turn; by the end of the next hour
the old count has faded. Memory store and real Redis, both loops."""

from __future__ import annotations

import random
import time
from types import SimpleNamespace

import msgspec
import pytest

from scrapeshield.detector import RequestContext
from scrapeshield.identity import detector as identity_detector
from scrapeshield.identity.detector import IdentityDetector
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action, Decision
from scrapeshield.store.base import Store
from tests.identity.test_signals import IMAGE, names, settings

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]
IDS = random.Random(17).sample(range(1, 301), 60)  # no constant-stride walk in it
HOUR = int(time.time() // 3600) * 3600.0  # the current clock hour's start


async def at(
    shield: Shield, when: float, path: str, headers: dict[str, str], cookie: str | None = None
) -> tuple[Decision, RequestContext]:
    sent = {**headers, **({"Cookie": cookie} if cookie else {})}
    facts = shield.facts(synthetic_scope(path=path, ip="203.0.113.7", headers=list(sent.items())))
    facts = msgspec.structs.replace(facts, time=when)
    ctx = shield.context()
    return await shield.decide(facts, ctx), ctx


async def test_the_turn_of_the_hour_gives_no_fresh_budget(store: Store) -> None:
    shield = Shield(settings(), store=store)
    before = HOUR - 30.0  # the last minute of the previous clock hour
    cookie = None  # the visitor is its address (a token's times are the real clock's)
    for n in IDS[:48]:
        decision, _ = await at(shield, before, f"/images/{n}.png", IMAGE, cookie)
        assert decision.action is not Action.DECOY, decision
    # ten seconds into the next clock hour: 48 x 0.997 still counts
    decision, _ = await at(shield, HOUR + 10, f"/images/{IDS[48]}.png", IMAGE, cookie)
    assert decision.action is Action.DECOY, [(s.name, s.detail) for s in decision.reasons]
    assert "budget/visitor/hour/refuse" in names(decision)
    # fifty minutes in, the previous hour weighs 1/6 (8 of 48): the visitor is served again
    decision, ctx = await at(shield, HOUR + 3000, f"/images/{IDS[49]}.png", IMAGE, cookie)
    assert decision.action is not Action.DECOY, decision
    assert ctx.notes["budget_use"] < 0.5


async def test_the_previous_hour_is_read_once_and_still_weighs_on_every_request(
    store: Store,
) -> None:
    """A finished clock hour's count no longer changes, so the detector reads it with the first
    request of the next hour and keeps it (docs/identity.md#a-sliding-hour): the requests after
    that one are weighed with it all the same."""
    shield = Shield(settings(), store=store)
    for n in IDS[:48]:
        decision, _ = await at(shield, HOUR - 30.0, f"/images/{n}.png", IMAGE)
        assert decision.action is not Action.DECOY, decision
    (detector,) = [d for d in shield.detectors if isinstance(d, IdentityDetector)]
    for offset, n in ((10.0, IDS[48]), (20.0, IDS[49]), (30.0, IDS[50])):
        decision, ctx = await at(shield, HOUR + offset, f"/images/{n}.png", IMAGE)
        assert decision.action is Action.DECOY, (offset, decision.reasons)
        assert ctx.notes["budget_use"] > 1.2
    assert 48 in detector._previous.values()  # known: read once


def test_a_flood_drops_the_oldest_previous_hours_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its bound the table of previous hours' counts drops the count learned longest ago,
    one by one: the counts learned last stay known (emptied when full, every client read its
    previous hour again, and each such read made way for a new plan)."""
    monkeypatch.setattr(identity_detector, "_PLAN_CACHE_SIZE", 4)  # (8 counts kept)
    detector = IdentityDetector(settings().identity, [b"k" * 32])
    for n in range(20):
        learnt = SimpleNamespace(prev_keys=(f"c:{n}",), prev_at=(0,), cache_key=("x", n))
        detector._learn(learnt, [n])  # type: ignore[arg-type]
    assert dict(detector._previous) == {f"c:{n}": n for n in range(12, 20)}
