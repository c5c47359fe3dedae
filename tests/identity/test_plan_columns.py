"""A client's plan holds its operations as its script call does, in columns (identity/ops.py,
`Ops`): its keys are its call's one tuple and its codes and TTLs its shape's, so a new client's
plan makes two tuples of operations, not one per operation; a page's lean plan likewise. What
runs is unchanged: every shape's plan is the one made for the client alone (test_shapes.py).
Memory store and real Redis, both loops."""

from __future__ import annotations

import time

import pytest

from scrapeshield.identity.plan import Plan
from scrapeshield.shield import Shield
from scrapeshield.store.base import Store
from tests.identity.test_caches import at, identity_of, token
from tests.identity.test_signals import IMAGE, PAGE, settings

pytestmark = [pytest.mark.both_loops, pytest.mark.clock_hour]


async def test_a_plans_operations_are_its_calls_columns(store: Store) -> None:
    shield = Shield(settings(), store=store)
    detector = identity_of(shield)
    now = (time.time() // 3600) * 3600 + 1800
    for n, age in enumerate((None, 60.0, 7200.0)):
        ip = f"203.0.113.{n + 1}"
        cookie = token(shield, int(now - age), int(now) + 86_400, ip=ip) if age else None
        for path, headers in (("/artworks/1", PAGE), (f"/images/{n}.png", IMAGE)) * 2:
            await at(shield, now, path, headers, ip=ip, cookie=cookie)  # (2nd: hours known)
    checked = leans = 0
    for kept in detector._plans.values():
        plans = [Plan._make(kept)]
        if plans[0].lean is not None:
            plans.append(Plan._make(plans[0].lean))
        for plan in plans:
            codes, keys, members, ttls = plan.ops
            assert isinstance(codes, str)
            assert keys is plan.call[0]  # (one tuple: the operations' keys and the call's)
            assert len(codes) == len(keys) == len(members) == len(ttls) > 0
            checked += 1
            leans += plan.kind == "page" and not plan.reads
    assert checked >= 5  # (pages and originals kept...)
    assert leans >= 1  # (...and a page's lean plan)
