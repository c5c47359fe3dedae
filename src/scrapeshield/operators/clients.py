"""Everything about one client: its recent events, counters, ban and trap state with the time
left, and why it was last refused (`scrapeshield log show CLIENT`, a dashboard's drill-down)."""

from __future__ import annotations

import asyncio
import heapq
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from scrapeshield.operators.filters import EventFilter, event_time, refused
from scrapeshield.operators.sources import EventSource

if TYPE_CHECKING:
    from scrapeshield.store.base import Store


@dataclass(slots=True)
class ClientReport:
    client_key: str
    events: list[dict[str, Any]] = field(default_factory=list)  # newest `recent`, oldest first
    counts: dict[str, int] = field(default_factory=dict)  # by action, over the whole window
    total: int = 0
    ban: dict[str, Any] | None = None  # {"until", "remaining", "reason", "rule"}
    trap: dict[str, Any] | None = None  # {"path", "remaining"}
    strikes: int = 0  # throttles counted toward an escalation ban
    ban_level: int = 0  # escalation level: the next ban is longer
    last_refusal: dict[str, Any] | None = None  # the newest enforced refusal event

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


async def client_report(
    source: EventSource,
    client_key: str,
    *,
    store: Store | None = None,
    recent: int = 20,
    since: float | None = None,
) -> ClientReport:
    """The report for `client_key`; the ban, trap and escalation state only when a `store` is
    given (a log file has none)."""
    report = ClientReport(client_key)
    kept: list[tuple[float, int, dict[str, Any]]] = []  # a heap of the newest `recent`
    last_time = float("-inf")
    async for event in source.any_order(EventFilter(client=client_key, since=since)):
        report.total += 1
        action = str(event.get("action"))
        report.counts[action] = report.counts.get(action, 0) + 1
        moment = event_time(event)
        entry = (moment, report.total, event)
        if len(kept) < recent:
            heapq.heappush(kept, entry)
        elif recent > 0 and entry[:2] > kept[0][:2]:
            heapq.heapreplace(kept, entry)
        if refused(event) and moment >= last_time:
            report.last_refusal, last_time = event, moment
    report.events = [event for _, _, event in sorted(kept, key=lambda e: e[:2])]
    if store is not None:
        await _state(store, report)
    return report


async def _state(store: Store, report: ClientReport) -> None:
    # imported here, with a store to read: bans, traps and escalation bring redis-py, the
    # detectors and pydantic (~0.4 s), which a report over a log file never needs
    from scrapeshield.bans import Ban, ban_key
    from scrapeshield.behaviour.trap import trap_key
    from scrapeshield.ratelimit.escalation import level_key, strike_key

    key = report.client_key
    ban_raw, trap_path, trap_ttl, strikes, level = await asyncio.gather(
        store.get(ban_key(key)),
        store.get(trap_key(key)),
        store.ttl(trap_key(key)),
        store.get(strike_key(key)),
        store.get(level_key(key)),
    )
    if ban_raw:
        ban = Ban.from_json(key, ban_raw)
        report.ban = {
            "until": ban.until,
            "remaining": round(ban.remaining),
            "reason": ban.reason,
            "rule": ban.rule,
        }
    if trap_path is not None:
        remaining = round(trap_ttl) if trap_ttl is not None else None
        report.trap = {"path": trap_path, "remaining": remaining}
    report.strikes, report.ban_level = _int(strikes), _int(level)
