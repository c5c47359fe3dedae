"""Running detectors: in turn, each awaited only if it must wait, or, on a store that batches
commands (Redis), concurrently, so that the ban read and every store-using detector share one
round trip. A detector that raises is handed to the shield's `failed` (logged, or fail closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from scrapeshield.bans import Ban, BanList
from scrapeshield.detectors.base import Detector, Found, RequestContext
from scrapeshield.errors import StoreUnavailable
from scrapeshield.facts import Facts
from scrapeshield.signals import Signal

Failed = Callable[[Detector, Facts, RequestContext, Exception], None]


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
    """Local detectors in turn, then a task per store-using detector: one turn of the loop lets
    them queue their commands, and the ban read joins them (one pipeline, no task for it)."""
    signals: list[Signal] = []
    await detect_in_turn(local, facts, ctx, signals, failed)
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(_run(d, facts, ctx, failed)) for d in store_detectors]
    try:
        if tasks:
            await asyncio.sleep(0)
        ban = await _ban_for(bans, facts, ctx)
        for task in tasks:
            signals.extend(await task)
    except BaseException:  # cancel the unfinished; read the finished ones' errors (none unread)
        for task in tasks:
            if not task.cancel() and not task.cancelled():
                task.exception()
        raise
    return ban, signals


async def _ban_for(bans: BanList, facts: Facts, ctx: RequestContext) -> Ban | None:
    try:
        return await bans.get(facts.client_key)
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
