"""A leased page's no-assets signal (`leasing.replay_no_assets`) is the one `evidence.judge`
gives the page on the grant's counts with the lease's pages added, at the request's time; and
its detail (`no_assets_detail`, `round`) prints the whole numbers `:.0f` printed."""

from __future__ import annotations

import math
import random

import msgspec

from scrapeshield.behaviour.evidence import COND, PAGE, judge, no_assets_detail
from scrapeshield.behaviour.leasing import NoAssets, PageLease, replay_no_assets
from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.facts import Facts


def test_the_detail_prints_what_the_float_format_printed() -> None:
    draw = random.Random(7)
    values = [k + 0.5 for k in range(3_000)]  # ties: both round half to even
    values += [math.nextafter(v, d) for v in values[:500] for d in (0.0, math.inf)]
    values += [draw.uniform(0, 10_000) for _ in range(20_000)]
    values += [draw.randint(0, 10_000) * draw.random() for _ in range(5_000)]
    values += [0.0, 0.49999999999999994, 1e15 + 0.5, 2.0**53]
    for pages, rendered in zip(values, reversed(values), strict=True):
        wanted = f"{pages:.0f} pages and {rendered:.0f} CSS/JS/image requests"
        assert no_assets_detail(pages, rendered) == wanted, (pages, rendered)


def _counts(draw: random.Random, quiet: bool) -> list[int]:
    """A window's counters: many pages, few or no CSS/JS/images (`quiet`: none at all)."""
    rendered = [0, 0, 0] if quiet else [draw.choice([0, 0, 1, 3, 12]) for _ in range(3)]
    return [draw.randint(0, 400), rendered[0], rendered[1], rendered[2], draw.randint(0, 5)]


def test_a_replayed_page_is_judged_as_judge_judges_it() -> None:
    draw, fired, vanished = random.Random(19), 0, 0
    for _ in range(4_000):
        s = BehaviourSettings(
            window=draw.choice([10.0, 60.0, 300.0, 457.3]),
            no_assets_pages=draw.choice([5, 30, 200]),
        )
        current = _counts(draw, quiet=draw.random() < 0.5)
        previous = _counts(draw, quiet=draw.random() < 0.5)
        bumps = [PAGE, COND] if draw.random() < 0.3 else [PAGE]
        lease = PageLease("c", bumps, [], [])
        lease.no_assets = NoAssets(s, current, previous, bumps)
        start = draw.uniform(1.7e9, 1.8e9)
        for used in sorted(draw.sample(range(1, 600), 12)):
            now = start + used * draw.uniform(0.0, 0.05)
            counts = list(current)
            for bump in bumps:
                counts[bump] += used
            found = judge(s, PAGE, now, counts, previous, 1)
            wanted = found[0] if found else None
            found_now = replay_no_assets(lease, _at(now), used)
            assert found_now == wanted, (s, current, previous, bumps, now, used)
            fired, vanished = fired + (wanted is not None), vanished + (wanted is None)
    assert fired > 10_000
    assert vanished > 5_000


def test_a_page_lease_replaying_nothing_cannot_say() -> None:
    """A page lease granted without no-assets to replay: evaluated in full (False)."""
    assert replay_no_assets(PageLease("c", [PAGE], [], []), _at(1.7e9), 1) is False


def _at(now: float) -> Facts:
    facts = Facts(
        "GET", "/", "", "http", "1.1", "h", {}, "ua", False, None, None, "c", "g", "i", False,
    )  # fmt: skip
    return msgspec.structs.replace(facts, time=now)
