"""Plans by shape (identity/shapes.py): a plan is made once per shape of request and shared by
every client of that shape, its client's strings put in per request; the plan a client gets is
the one made for it alone, key for key. Memory store and real Redis, both loops."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest

from scrapeshield.identity import detector as identity_detector
from scrapeshield.identity.plan import Plan, lean, make
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store.base import Store
from tests.identity.test_caches import at, identity_of, token
from tests.identity.test_signals import IMAGE, PAGE, settings

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the plans made afresh (`plan.make`: a template's, or a client's own)."""
    made = [0]

    def counted(*args: Any) -> Plan:
        made[0] += 1
        return make(*args)

    monkeypatch.setattr(identity_detector, "make", counted)
    return made


async def test_many_clients_of_one_shape_share_its_plan(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 addresses, each with a page and an original of the same shape: a handful of plans
    made (one per shape, and one per previous hours known), not one per client."""
    made = counting(monkeypatch)
    shield = Shield(settings(), store=store)
    now = (time.time() // 3600) * 3600 + 1800  # mid-hour: the windows stay put
    for n in range(200):
        ip = f"198.51.{n // 250}.{n % 250 + 1}"
        await at(shield, now, "/artworks/1", PAGE, ip=ip)
        await at(shield, now, f"/images/{n % 9 + 1}.png", IMAGE, ip=ip)
    assert len(identity_of(shield)._plans) >= 200  # every client has its plan...
    assert made[0] <= 8  # ...made from a few shared ones


async def test_a_shared_plan_is_the_clients_own(store: Store) -> None:
    """For clients of every shape (with or without a token, young or not, issued this hour or
    day or before, the previous hour known or not, budgets read or not), the plan put together
    from its shape's template is the plan made for the client alone."""
    shield = Shield(settings(), store=store)
    detector = identity_of(shield)
    now = (time.time() // 3600) * 3600 + 1800
    ages = (None, 60.0, 1200.0, 2400.0, 7200.0, 100_000.0)
    checked = known = 0
    for n, age in enumerate(ages * 3):
        ip = f"203.0.{113 + n % 2}.{n + 1}"
        cookie = token(shield, int(now - age), int(now) + 86_400, ip=ip) if age else None
        if n % 2:  # an original the hour before: its counts are then known, and not 0
            await at(shield, now - 3600, "/images/5.png", IMAGE, ip=ip, cookie=cookie)
        for path, headers in (("/artworks/1", PAGE), ("/images/2.png", IMAGE)):
            for _ in range(2):  # (the second: the previous hour's counts known)
                _, ctx = await at(shield, now, path, headers, ip=ip, cookie=cookie)
            plan = ctx.notes["identity_plan"]
            sent = {**headers, **({"Cookie": cookie} if cookie else {})}
            scope = synthetic_scope(path=path, ip=ip, headers=list(sent.items()))
            facts = msgspec.structs.replace(shield.facts(scope), time=now)
            visitor = detector.tokens.validate(facts)
            young, fingerprint = bool(plan.cache_key[5]), str(plan.cache_key[8])
            strings = (facts.client_key, detector._network(facts), fingerprint)
            for budgets in (True, False):
                shared = detector._shaped(
                    facts, plan.kind, visitor, young, fingerprint, (), budgets
                )
                read = detector._budgets if budgets else []
                own = make(
                    shield.settings.identity, read, plan.kind, now, visitor, strings, young,
                    detector._previous,
                )  # fmt: skip
                assert shared == own
                checked += 1
                known += any(read[3] > 0 for read in own.reads)
    assert checked == len(ages) * 3 * 2 * 2
    assert known > 10  # (so many plans knew the previous hour's counts)
    assert len(detector._templates) > 10  # (so many shapes were met)


async def test_a_pages_lean_plan_is_made_with_it_and_is_the_plan_without_budgets(
    store: Store,
) -> None:
    """A page's plan comes with its plan for trusted pages (`plan.lean`: no second plan at the
    first trusted page), which is the plan made for the client alone with no budget to read:
    with or without a token, young or not, the previous hour known or not."""
    shield = Shield(settings(), store=store)
    detector = identity_of(shield)
    now = (time.time() // 3600) * 3600 + 1800
    checked = 0
    for n, age in enumerate((None, 60.0, 1200.0, 2400.0, 7200.0, 100_000.0) * 2):
        ip = f"203.0.{113 + n % 2}.{n + 1}"
        cookie = token(shield, int(now - age), int(now) + 86_400, ip=ip) if age else None
        if n % 2:  # an original the hour before: the previous hour's counts are then known
            await at(shield, now - 3600, "/images/5.png", IMAGE, ip=ip, cookie=cookie)
        _, ctx = await at(shield, now, "/artworks/1", PAGE, ip=ip, cookie=cookie)
        plan = ctx.notes["identity_plan"]
        assert plan.reads  # (the first page: read, not trusted)
        assert plan.lean is not None
        sent = {**PAGE, **({"Cookie": cookie} if cookie else {})}
        scope = synthetic_scope(path="/artworks/1", ip=ip, headers=list(sent.items()))
        facts = msgspec.structs.replace(shield.facts(scope), time=now)
        visitor = detector.tokens.validate(facts)
        young, fingerprint = bool(plan.cache_key[5]), str(plan.cache_key[8])
        strings = (facts.client_key, detector._network(facts), fingerprint)
        own = make(
            shield.settings.identity, [], "page", now, visitor, strings, young, detector._previous
        )
        assert Plan._make(plan.lean) == own._replace(cache_key=plan.cache_key)
        _, ctx = await at(shield, now + 1, "/artworks/2", PAGE, ip=ip, cookie=cookie)
        assert ctx.notes["identity_plan"] == Plan._make(plan.lean)  # (trusted: the lean one)
        checked += 1
    assert checked == 12
    _, ctx = await at(shield, now, "/images/2.png", IMAGE)
    with pytest.raises(ValueError, match="a lean plan is a page's"):  # (an original has none)
        lean(ctx.notes["identity_plan"])


async def test_a_visitors_plan_outlives_the_turn_of_windows_it_does_not_count_in(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool's and the issuance's windows are part of a plan's key only where it counts in
    them (a young identity's pool; a tokenless one's issuance and amnesia): across their turn
    a visitor's plan is kept, and is what a process that never saw the client makes."""
    hour = (time.time() // 3600) * 3600
    before, after = hour + 1790, hour + 1810  # (the 600 s windows turn at 1800; the hour does not)
    for age, kept in ((None, False), (60.0, False), (7200.0, True)):
        shield = Shield(settings(), store=store)
        detector = identity_of(shield)
        made = [0]
        shaped = detector._shaped

        def counted(*args: Any, shaped: Any = shaped, made: list[int] = made) -> Plan:
            made[0] += 1
            plan: Plan = shaped(*args)
            return plan

        monkeypatch.setattr(detector, "_shaped", counted)
        cookie = token(shield, int(before - age), int(after) + 86_400) if age else None
        for path, headers in (("/artworks/1", PAGE), ("/images/2.png", IMAGE)):
            await at(shield, before - 5, path, headers, cookie=cookie)  # (the previous hour read)
        plans = []
        for when in (before, after):
            made[0] = 0
            for path, headers in (("/artworks/1", PAGE), ("/images/2.png", IMAGE)):
                _, ctx = await at(shield, when, path, headers, cookie=cookie)
                plans.append(ctx.notes["identity_plan"]._replace(lean=None))
        assert made[0] == (0 if kept else 2)  # (after the turn)
        if kept:
            assert plans[:2] == plans[2:]
            for plan, headers in zip(plans[2:], (PAGE, IMAGE), strict=True):  # made now: the same
                full = Plan._make(detector._plans[plan.cache_key])._replace(lean=None)
                sent = list({**headers, "Cookie": cookie or ""}.items())
                scope = synthetic_scope(ip="203.0.113.7", headers=sent)
                facts = msgspec.structs.replace(shield.facts(scope), time=after)
                visitor = detector.tokens.validate(facts)
                young, fingerprint = bool(full.cache_key[5]), str(full.cache_key[8])
                assert shaped(facts, full.kind, visitor, young, fingerprint, full.cache_key) == full


async def test_a_plan_that_learns_the_previous_hour_is_kept_knowing_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client's first plan of the hour reads the previous hour's counts (then known to this
    process); it is kept as the plan made with them known, so the client's next request makes
    no plan and reads them no more. A page and an original, each of a visitor of its own."""
    shield = Shield(settings(), store=store)
    detector = identity_of(shield)
    now = (time.time() // 3600) * 3600 + 1800
    for n, (path, headers) in enumerate((("/artworks/1", PAGE), ("/images/2.png", IMAGE))):
        ip = f"203.0.{113 + n}.9"
        cookie = token(shield, int(now - 100_000), int(now) + 86_400, ip=ip)
        await at(shield, now - 3600, "/images/5.png", IMAGE, ip=ip, cookie=cookie)  # not 0
        _, ctx = await at(shield, now, path, headers, ip=ip, cookie=cookie)
        plan = ctx.notes["identity_plan"]
        assert plan.learns
        kept = Plan._make(detector._plans[plan.cache_key])
        sent = {**headers, "Cookie": cookie}
        scope = synthetic_scope(path=path, ip=ip, headers=list(sent.items()))
        facts = msgspec.structs.replace(shield.facts(scope), time=now)
        young, fingerprint = bool(plan.cache_key[5]), str(plan.cache_key[8])
        strings = (facts.client_key, detector._network(facts), fingerprint)
        own = make(
            shield.settings.identity, detector._budgets, plan.kind, now,
            detector.tokens.validate(facts), strings, young, detector._previous,
        )  # fmt: skip
        assert kept._replace(lean=None) == own._replace(cache_key=plan.cache_key)
        assert kept.lean == plan.lean
        assert any(read[3] > 0 for read in kept.reads)  # (the previous hour's count: known)
        assert len(kept.ops[0]) < len(plan.ops[0])
        made = counting(monkeypatch)
        monkeypatch.setattr(detector, "_shaped", None)  # (a plan made now would fail)
        _, ctx = await at(shield, now + 1, path, headers, ip=ip, cookie=cookie)
        assert ctx.notes["identity_plan"].kind == plan.kind
        assert made == [0]
        monkeypatch.undo()
