"""What the middleware keeps per client is left untracked by the garbage collector, which walks
every tracked object at each full collection (docs/log/store.md, "Per-client state"): after 200
clients' pages and originals (one browser build: a busy site's identity settings, as
`benchmarks.run.BUSY_SITE`), each issued a visitor token, no part of the shield holds a
tracked object a client once collections have settled (`benchmarks.gc_parts`) and the leases
have ended (a live lease is young state: its client's few tracked objects for at most
`lease.seconds`, at most `lease.max_clients` of them). Counts objects, never times. Memory
store and real Redis, both loops."""

from __future__ import annotations

import time

import pytest
from benchmarks.gc_parts import Parts

from scrapeshield.shield import Shield
from scrapeshield.store.base import Store
from tests.identity.test_signals import IMAGE, PAGE, cookie_of, decide, settings

pytestmark = pytest.mark.both_loops
CLIENTS = 200


async def visit(shield: Shield, n: int) -> None:
    """A person's first page (a token issued), an original with it, and a page with it."""
    ip = f"198.51.{n}.9"
    _, ctx = await decide(shield, "/artworks/1", PAGE, ip=ip)
    cookie = cookie_of(ctx)
    assert cookie is not None
    await decide(shield, f"/images/{n + 1}.png", IMAGE, ip=ip, cookie=cookie)
    await decide(shield, "/artworks/2", PAGE, ip=ip, cookie=cookie)


async def test_no_part_keeps_a_tracked_object_a_client(store: Store) -> None:
    busy = {"rotating_pool": {"identities": 1000}, "issuance_per_fingerprint": 100_000}
    # (leases of 30 s: each client's second page is seen again, and leased, however loaded)
    lease = {"seconds": 30.0}
    shield = Shield(settings(ratelimit={"enabled": True}, identity=busy, lease=lease), store=store)
    await visit(shield, 255)  # (first-request work: caches filled once, not per client)
    parts = Parts()
    parts.before()
    for n in range(CLIENTS):
        await visit(shield, n)
    leases = shield.leases
    assert leases is not None
    assert len(leases) > CLIENTS // 2  # (leases are on, as shipped)
    leases.sweep(time.time() + shield.settings.lease.seconds + 1)  # every lease over, settled
    await leases.written()
    found, _, _ = parts.after(shield, settled=True)
    assert {part: count for part, count in found.items() if count >= CLIENTS // 2} == {}
