"""A lease's reservation across workers (docs/leases.md): the detectors that count across
workers (the rate limiter on Redis) count the lease's requests at its grant; the lease is used
once every reservation is counted, and what is unused is given back at the settle."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from scrapeshield.lease.lease import Hooks, Lease, Settle, Wakeup

logger = logging.getLogger("scrapeshield")
SETTLE_TIMEOUT = 5.0  # seconds: a settle the store does not answer by then is given up (logged)
_HOOK_LISTS = ("uses", "covers", "keeps", "settles", "flushes")


def reserve(lease: Lease, reserves: list[tuple[Hooks, Any]], store: Any) -> list[Awaitable[bool]]:
    """Have each detector that counts across workers reserve the lease's requests now; the
    replies to read (`confirm`). Each reserving detector's settle gives back its unused part.
    A reservation counted at once (in process, or on Redis by the granting request's own hit)
    answers True, or False when refused: nothing to wait for."""
    replies = []
    for hook, state in reserves:
        assert hook.reserve is not None
        try:
            reply = hook.reserve(state, lease.left, store)
        except Exception:
            logger.exception("lease reservation failed")
            lease.left = 0
            continue
        if reply is None:
            continue
        if not isinstance(reply, bool):
            replies.append(reply)
        elif not reply:  # (refused at once)
            lease.left = 0
            continue
        if hook.settle is not None:
            lease.releases.append((hook.settle, state))
    if replies:
        lease.pending = True
        lease.ready = Wakeup(time.monotonic() + SETTLE_TIMEOUT)  # (its waiters' deadline)
    return replies


async def confirm(
    lease: Lease,
    replies: list[Awaitable[bool]],
    release: Callable[[Lease], list[asyncio.Task[None]]],
    landed: Callable[[], None] | None = None,
) -> None:
    """A reservation's replies: the lease goes live when all were counted; refused (a limit,
    a ban) or failed, it is dead; settled meanwhile, what was counted is given back.
    `landed`: told once the replies are read (the table's count of leases pending)."""
    counted = True
    for reply in replies:
        try:
            async with asyncio.timeout(SETTLE_TIMEOUT):
                counted = await reply and counted
        except Exception:
            logger.exception("lease reservation: the store did not answer")
            counted = False
    lease.pending = False
    if lease.ready is not None and not lease.ready.woken:
        lease.ready.wake()
        if landed is not None:
            landed()
    if not counted:
        lease.left = 0
    if lease.ended or not counted:  # give back whatever was counted (none used)
        lease.ended = True
        pending = release(lease)
        if pending:
            await asyncio.wait(pending, timeout=SETTLE_TIMEOUT)


def refresh(old: Lease, fresh: Lease) -> None:
    """A full evaluation of the lease's key while its reservation is on its way, or landed
    with nothing leased yet (its grant and that evaluation in flight together): the lease
    takes that request's fresher terms (headroom, end, the detectors' states) and keeps the
    reservation's own state (what it counted, and so what it gives back)."""
    owners = {_owner(settle) for settle, _ in old.releases}
    old.left, old.until = min(old.left, fresh.cap), min(old.until, fresh.until)
    old.cap = min(old.cap, fresh.cap)
    old.decision = fresh.decision
    old.replays, old.alone = fresh.replays, fresh.alone  # (its signals, as that request's)
    for name in _HOOK_LISTS:
        held: list[tuple[Any, Any]] = getattr(old, name)
        out = [(h, st) for h, st in getattr(fresh, name) if _owner(h) not in owners]
        setattr(old, name, out + [(h, st) for h, st in held if _owner(h) in owners])


def _owner(hook: Settle | Any) -> int:
    return id(getattr(hook, "__self__", hook))


async def read(reply: Awaitable[Any]) -> None:
    """A settle's store reply, read within a deadline; a failure is logged, never raised."""
    try:
        async with asyncio.timeout(SETTLE_TIMEOUT):
            found = await reply
            if isinstance(found, Awaitable):
                await found
    except Exception:
        logger.exception("lease settle: the store did not take the deferred requests")
