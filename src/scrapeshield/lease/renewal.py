"""A lease renewed ahead (Redis; docs/leases.md, "Renewed ahead"): one client's many
connections leased without waiting for the next grant.

A fast client's 32 connections take a lease's requests within one tick; the next lease's grant
comes a round trip later, from a full evaluation, and until then every other request of the
tick went in full. Here a live lease, half used, sends its *renewal*: the rate limiter reserves
`chunk` more requests (the same script as a grant's reservation: every limit checked, the ban
read, the margin kept), and once that is counted the lease may use them. Nothing else of the
lease changes: its decision, its replays, its end (`until`) and each other detector's headroom
(`cap`, the most records the grant's terms allow) are the grant's, which hold for every request
of this kind and binding until then whatever their number (`lease.requests` bounds a grant,
not a headroom); a full evaluation of the client meanwhile ends or keeps the lease as before
(`lease_keeps`, `alone`). A request that finds the lease used up with a renewal on its way
waits for it (once, one round trip: what its own full evaluation's call would take), counted
against the renewals on their way; where they are all spoken for another is sent, at most
`MAX_COMING` chunks at once (the lease's unused reservation so bounded, as a grant's is).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.lease.lease import Lease
from scrapeshield.lease.reservation import SETTLE_TIMEOUT
from scrapeshield.store.base import Store

logger = logging.getLogger("scrapeshield")
MAX_COMING = 8
"""The requests of a lease's renewals on their way at once, in chunks (its unused reservation
bounded: at most this many chunks, and what is left)."""
WAITED_NOTE = "lease_waited"
"""`ctx.notes`: this request waited for its lease (a reservation, a renewal) once, never twice."""
WAITING_NOTE = "lease_waiting"
"""`ctx.notes`: the lease this request waits for (counted in its `waiting` until it is back)."""
READING: set[asyncio.Task[None]] = set()


def waits(
    lease: Lease, facts: Facts, ctx: RequestContext, store: Store
) -> asyncio.Future[None] | None:
    """A request of a lease not counted yet (`pending`: its grant's reservation on its way)
    or used up with a renewal on its way: what it waits for, counted against the requests on
    their way (a renewal sent when they are all spoken for); None: it is evaluated in full (it
    waited once already, the lease ends first, a path it does not cover, no renewal to be
    had)."""
    if ctx.notes.get(WAITED_NOTE) or facts.time >= lease.until or not lease.paths(facts):
        return None
    need = lease.waiting - lease.left + 1  # its place beyond what is left (or reserved)
    landing = lease.ready if need <= 0 else _covering(lease, need)
    if landing is None and ahead(lease, store, waiting=True):
        landing = _covering(lease, need)
    if landing is None:
        return None
    lease.waiting += 1
    ctx.notes[WAITING_NOTE] = lease
    return landing


def _covering(lease: Lease, need: int) -> asyncio.Future[None] | None:
    """The renewal on its way that brings the lease `need` requests more (in the order they
    were sent, which is the order they land: one pipeline)."""
    coming = 0
    for units, landing in lease.landing:
        coming += units
        if coming >= need:
            return landing
    return None


def unwait(ctx: RequestContext) -> bool:
    """A request that waited is back (or gone): no longer counted among its lease's waiting
    (True: it was; a request back takes what is left before a new one)."""
    if (lease := ctx.notes.pop(WAITING_NOTE, None)) is None:
        return False
    lease.waiting -= 1
    return True


def ahead(lease: Lease, store: Store, waiting: bool = False) -> bool:
    """Keep a renewed lease ahead of its client: a lease is first renewed when a request must
    wait for it (`waiting`: the client sends requests at once; one at a time, a lease used up
    is followed by a grown one, with no wait), then once half a chunk was used since the last
    renewal was sent, and what is free (left and on its way, less what the waiting requests
    take) is within the client's pace, a renewal brings it to twice that pace, so it lands
    before the lease runs out and the requests meanwhile need not wait. The pace: the requests
    leased since the last renewal was sent (about one round trip's), at least `chunk`. False:
    none sent."""
    if lease.sent < 0 and not waiting:  # (never renewed: a request must wait first)
        return False
    used = len(lease.records) - max(0, lease.sent)
    free = lease.left + lease.coming - lease.waiting
    pace = max(lease.chunk, used)
    if (waiting or 2 * used >= lease.chunk) and free <= pace:
        return renew(lease, store, 2 * pace - free)
    return False


def renew(lease: Lease, store: Store, size: int = 0) -> bool:
    """Send a renewal of `size` (else `chunk`) more requests (fewer where `cap` is nearer),
    queued in this tick's round trip; False when none is sent (no room left in the grant's
    terms, or `MAX_COMING` chunks on their way; or the rate limiter refused to: then never
    again)."""
    used = len(lease.records)
    most = min(lease.cap - used - lease.left, MAX_COMING * lease.chunk) - lease.coming
    units = min(size or lease.chunk, most)
    if units <= 0 or not lease.renews:
        return False
    hook, state = lease.renews[0]
    try:
        reply = hook(state, units, store)
    except Exception:
        logger.exception("lease renewal failed")
        reply = None
    if reply is None:
        lease.renews = []
        return False
    lease.coming += units
    lease.sent = used
    loop = asyncio.get_running_loop()
    entry = (units, loop.create_future())
    lease.landing.append(entry)
    task = loop.create_task(_landed(lease, entry, reply))
    READING.add(task)  # held until done: a task nobody holds may be collected
    task.add_done_callback(READING.discard)
    return True


async def _landed(
    lease: Lease, entry: tuple[int, asyncio.Future[None]], reply: Awaitable[bool]
) -> None:
    """A renewal's reply: counted, the lease may use it (settled meanwhile, the rate limiter
    gave it back); refused (a limit, a ban) or failed, the lease is not renewed again. The
    requests waiting for it go on."""
    try:
        async with asyncio.timeout(SETTLE_TIMEOUT):
            counted = await reply
    except Exception:
        logger.exception("lease renewal: the store did not answer")
        counted = False
    units, landing = entry
    lease.coming -= units
    lease.landing.remove(entry)
    if counted and not lease.ended:
        lease.left += units
    elif not counted:
        lease.renews = []
    if not landing.done():
        landing.set_result(None)
