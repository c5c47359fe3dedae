"""A page trusts, for a minute, budgets this process read under half of every budget
(docs/identity.md#trusted-pages): it then reads none of them. Originals are always counted and
judged exactly; a page whose budgets another process (another worker, a rolling upgrade's old
one) moved meanwhile is judged exactly at the latest a minute after this process last read
them, or at once after one of its originals here. Memory store and real Redis, both loops."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scrapeshield.identity.trust import TrustedReads
from scrapeshield.shield import Shield
from scrapeshield.signals import Decision
from scrapeshield.store.base import Store
from tests.identity.test_caches import at, token
from tests.identity.test_signals import IMAGE, PAGE, cookie_of, names, settings

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]
START = int(time.time() // 3600) * 3600.0 + 600.0  # ten minutes into the clock hour: no turn
AT_BUDGET = "budget/visitor/hour"


def lean(notes: dict[str, Any]) -> bool:
    """Whether the request's plan read no budget."""
    return not notes["identity_plan"].reads


async def originals(shield: Shield, when: float, ids: range) -> list[Decision]:
    return [(await at(shield, when, f"/images/{n}.png", IMAGE))[0] for n in ids]


async def test_a_page_at_its_budget_is_challenged_when_this_process_counted(store: Store) -> None:
    shield = Shield(settings(), store=store)
    _, ctx = await at(shield, START, "/artworks/1", PAGE)
    assert not lean(ctx.notes)  # unknown: read
    _, ctx = await at(shield, START + 1, "/artworks/2", PAGE)
    assert lean(ctx.notes)
    assert ctx.notes["budget_use"] == 0.0
    for decision in await originals(shield, START + 2, range(1, 41)):  # 40 of 40
        assert AT_BUDGET not in names(decision)
    decision, ctx = await at(shield, START + 3, "/artworks/3", PAGE)
    assert not lean(ctx.notes)  # read at half or more: no longer trusted
    assert AT_BUDGET in names(decision)
    assert ctx.notes["budget_use"] == 1.0


async def test_another_process_originals_reach_a_page_within_a_minute(store: Store) -> None:
    here, there = Shield(settings(), store=store), Shield(settings(), store=store)
    _, ctx = await at(here, START, "/artworks/1", PAGE)  # read here: under half
    for decision in await originals(there, START + 1, range(1, 41)):  # 40 of 40 over there
        assert AT_BUDGET not in names(decision)
    # the worst case: this process trusts its read of a minute ago, the page is not challenged
    decision, ctx = await at(here, START + 30, "/artworks/2", PAGE)
    assert lean(ctx.notes)
    assert AT_BUDGET not in names(decision)
    # a process that never read them (a new worker, one just upgraded) reads them at once
    decision, _ = await at(Shield(settings(), store=store), START + 30, "/artworks/2", PAGE)
    assert AT_BUDGET in names(decision)
    # the next original here is judged exactly, and so is the page after it
    decision, ctx = await at(here, START + 31, "/images/41.png", IMAGE)
    assert AT_BUDGET in names(decision)
    assert ctx.notes["budget_use"] == 1.025
    decision, ctx = await at(here, START + 32, "/artworks/3", PAGE)
    assert not lean(ctx.notes)
    assert AT_BUDGET in names(decision)


async def test_a_trusted_read_lasts_a_minute(store: Store) -> None:
    here, there = Shield(settings(), store=store), Shield(settings(), store=store)
    await at(here, START, "/artworks/1", PAGE)
    await originals(there, START + 1, range(1, 41))
    decision, ctx = await at(here, START + 60, "/artworks/2", PAGE)
    assert not lean(ctx.notes)
    assert AT_BUDGET in names(decision)


async def test_a_neighbours_originals_here_end_the_trust_in_the_network(store: Store) -> None:
    """The network's budget (40 an hour) is shared: another address of the /24 taking its
    originals in this process ends this client's trusted read of the network."""
    shield = Shield(settings(), store=store)
    await at(shield, START, "/artworks/1", PAGE, ip="203.0.113.7")
    for n in range(1, 41):
        await at(shield, START + 1, f"/images/{n}.png", IMAGE, ip="203.0.113.8")
    decision, ctx = await at(shield, START + 2, "/artworks/2", PAGE, ip="203.0.113.7")
    assert not lean(ctx.notes)
    assert "budget/network/hour" in names(decision)


async def test_a_young_token_trusts_its_address_tokenless_originals_only_under_half(
    store: Store,
) -> None:
    """A token issued today has for visitor budget the union with its address's tokenless
    originals: its page trusts only while both were read under half, so the union is under the
    whole; tokenless originals here (a cookie-less client at the same address) end it."""
    shield = Shield(settings(), store=store)
    cookie = token(shield, int(START) - 10, int(START) + 3600)
    _, ctx = await at(shield, START, "/artworks/1", PAGE, cookie=cookie)
    assert not lean(ctx.notes)
    _, ctx = await at(shield, START + 1, "/artworks/2", PAGE, cookie=cookie)
    assert lean(ctx.notes)
    for n in range(1, 20):  # 19 of 40 without the cookie: under half
        await at(shield, START + 2, f"/images/{n}.png", IMAGE)
    _, ctx = await at(shield, START + 3, "/artworks/3", PAGE, cookie=cookie)
    assert lean(ctx.notes)
    await at(shield, START + 4, "/images/20.png", IMAGE)  # 20: half
    _, ctx = await at(shield, START + 5, "/artworks/4", PAGE, cookie=cookie)
    assert not lean(ctx.notes)
    for n in range(21, 41):
        await at(shield, START + 6, f"/images/{n}.png", IMAGE)
    decision, ctx = await at(shield, START + 7, "/artworks/5", PAGE, cookie=cookie)
    assert not lean(ctx.notes)
    assert AT_BUDGET in names(decision)


def test_a_flood_of_subjects_drops_the_oldest_trust_only() -> None:
    """Past its bound the table of trusted reads drops the subject read longest ago, one by
    one: the subjects read last stay trusted (emptied when full, every client's next page read
    its budgets again at once)."""
    trust = TrustedReads(8)
    for n in range(20):
        trust.note({f"budget/visitor/v{n}": 0.1}, 1000.0 + n)
    assert all(trust.trusted([f"budget/visitor/v{n}"], 1030.0) >= 0 for n in range(12, 20))
    assert trust.trusted(["budget/visitor/v11"], 1030.0) == -1.0
    trust.note({"budget/visitor/v12": 0.2}, 1030.0)  # read again: the youngest
    trust.note({"budget/visitor/v20": 0.1}, 1030.0)
    assert trust.trusted(["budget/visitor/v12"], 1031.0) == 0.2
    assert trust.trusted(["budget/visitor/v13"], 1031.0) == -1.0  # the oldest went


async def test_a_token_issued_here_is_trusted_at_nothing_from_its_issue(store: Store) -> None:
    """No original can name a token before it is issued: this process notes its budgets as
    read at 0 when it issues it, so its first page (its address read under half by the page
    that issued it) reads no budget. Another process, which did not issue it, reads them; and
    the token's originals here are judged, and end the trust, as any visitor's."""
    shield = Shield(settings(), store=store)
    _, ctx = await at(shield, START, "/artworks/1", PAGE)  # no token: read, and one issued
    assert not lean(ctx.notes)
    cookie = cookie_of(ctx)
    assert cookie is not None
    _, ctx = await at(shield, START + 2, "/artworks/2", PAGE, cookie=cookie)
    assert ctx.notes["visitor"]
    assert lean(ctx.notes)
    assert ctx.notes["budget_use"] == 0.0
    _, ctx = await at(
        Shield(settings(), store=store), START + 2, "/artworks/2", PAGE, cookie=cookie
    )
    assert not lean(ctx.notes)
    for decision in await originals_with(shield, START + 3, range(1, 41), cookie):  # 40 of 40
        assert AT_BUDGET not in names(decision)
    decision, ctx = await at(shield, START + 4, "/artworks/3", PAGE, cookie=cookie)
    assert not lean(ctx.notes)
    assert AT_BUDGET in names(decision)


async def originals_with(shield: Shield, when: float, ids: range, cookie: str) -> list[Decision]:
    return [(await at(shield, when, f"/images/{n}.png", IMAGE, cookie=cookie))[0] for n in ids]
