"""Running detectors: in turn, each awaited only if it must wait, or, on a store that batches
commands (Redis), concurrently, so that the ban read and every store-using detector share one
round trip. A detector that raises is handed to the shield's `failed` (logged, or fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

from scrapeshield.bans import Ban, BanList
from scrapeshield.detector import Detector, Found, RequestContext, Sent, settled
from scrapeshield.errors import StoreUnavailable
from scrapeshield.facts import Facts
from scrapeshield.signals import Signal

Failed = Callable[[Detector, Facts, RequestContext, Exception], None]
_DRAINING: set[asyncio.Task[None]] = set()


async def detect_in_turn(
    detectors: list[Detector],
    facts: Facts,
    ctx: RequestContext,
    signals: list[Signal],
    failed: Failed,
) -> None:
    """Each detector in turn, its signals added to `signals` (`detect_now` when it has one)."""
    for detector in detectors:
        try:
            now = getattr(detector, "detect_now", None)
            found: Found = detector.detect(facts, ctx) if now is None else now(facts, ctx)
            if type(found) is not tuple and type(found) is not list:  # `settled`, inline
                found = await found  # type: ignore[misc]
            if found:
                signals.extend(found)  # type: ignore[arg-type]
        except Exception as exc:
            failed(detector, facts, ctx, exc)


async def gather_concurrently(
    bans: BanList,
    local: list[Detector],
    store_detectors: list[Detector],
    facts: Facts,
    ctx: RequestContext,
    failed: Failed,
) -> tuple[Ban | None, list[Signal]]:
    """Local detectors in turn; then every store-using detector, whose commands must leave in
    one pipeline with the ban read. A detector whose `detect_now` hands back `Sent` has queued
    its commands already and is simply awaited; any other gets a task, created first, so that
    it queues its commands before the pipeline is flushed (a task costs several µs)."""
    signals: list[Signal] = []
    await detect_in_turn(local, facts, ctx, signals, failed)
    loop = asyncio.get_running_loop()
    started = [  # before any command is queued: their steps then run before the flush
        None if getattr(d, "detect_now", None) else loop.create_task(_run(d, facts, ctx, failed))
        for d in store_detectors
    ]
    tasks = [task for task in started if task is not None]
    pending: list[tuple[Detector, Found]] = []
    awaited = -1  # the index in `pending` last awaited
    try:
        for detector, task in zip(store_detectors, started, strict=True):
            if task is not None:
                pending.append((detector, task))
                continue
            now = detector.detect_now  # type: ignore[attr-defined]
            try:
                found: Found = now(facts, ctx)
            except Exception as exc:
                failed(detector, facts, ctx, exc)
                continue
            if settled(found) or isinstance(found, Sent):  # (signals kept in detector order)
                pending.append((detector, found))
            else:  # not queued yet: a task starts it (a second round trip at worst)
                unsent = cast(Awaitable[Sequence[Signal]], found)
                tasks.append(loop.create_task(_awaited(detector, unsent, facts, ctx, failed)))
                pending.append((detector, tasks[-1]))
        ban = await _ban_for(bans, facts, ctx)
        for detector, waiting in pending:
            awaited += 1
            try:
                signals.extend(waiting if settled(waiting) else await waiting)  # type: ignore[misc]
            except Exception as exc:
                failed(detector, facts, ctx, exc)
    except BaseException:  # cancel the unfinished; read the finished ones' errors (none unread)
        for task in tasks:
            if not task.cancel() and not task.cancelled():
                task.exception()
        for _, waiting in pending[awaited + 1 :]:  # queued, never awaited: read their replies
            if isinstance(waiting, Sent):
                drain = loop.create_task(_drain(waiting))
                _DRAINING.add(drain)  # held until done: a task nobody holds may be collected
                drain.add_done_callback(_DRAINING.discard)
        raise
    return ban, signals


async def _drain(waiting: Sent) -> None:
    """Await what a cancelled request queued, so that no reply, error or coroutine is left
    unread (a reply comes within the store's timeout)."""
    with contextlib.suppress(BaseException):
        await waiting


async def _awaited(
    detector: Detector,
    found: Awaitable[Sequence[Signal]],
    facts: Facts,
    ctx: RequestContext,
    failed: Failed,
) -> Sequence[Signal]:
    try:
        return await found
    except Exception as exc:
        failed(detector, facts, ctx, exc)
    return ()


async def _ban_for(bans: BanList, facts: Facts, ctx: RequestContext) -> Ban | None:
    """The ban read, queued at once on Redis (`get_soon`); a store that is down is noted."""
    try:
        return await bans.get_soon(facts.client_key)
    except StoreUnavailable:
        ctx.store_failed = True
        return None


async def _run(
    detector: Detector, facts: Facts, ctx: RequestContext, failed: Failed
) -> Sequence[Signal]:
    try:
        return await detector.detect(facts, ctx)
    except Exception as exc:
        failed(detector, facts, ctx, exc)
    return ()
