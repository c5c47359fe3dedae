"""Summaries of a window of events: counts by action, rule and category, the busiest clients
and user agents, refused against let through, and a per-hour histogram.

Counters are bounded (`MAX_DISTINCT` names each): past it the rarest half is dropped, so a
file of millions of distinct clients summarises in bounded memory (the top counts stay right;
counts near the bottom become approximate).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from scrapeshield.operators.filters import category_of, refused

MAX_DISTINCT = 50_000
_MAX_HOURS = 24 * 92


def _bounded_add(counter: Counter[str], key: str) -> None:
    counter[key] += 1
    if len(counter) > MAX_DISTINCT:
        keep = counter.most_common(MAX_DISTINCT // 2)
        counter.clear()
        counter.update(dict(keep))


@dataclass(slots=True)
class Summary:
    """What `scrapeshield log summary` prints, and a dashboard shows."""

    total: int = 0
    refused: int = 0
    let_through: int = 0
    first: float | None = None
    last: float | None = None
    by_event: dict[str, int] = field(default_factory=dict)
    by_action: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_client: dict[str, int] = field(default_factory=dict)
    by_user_agent: dict[str, int] = field(default_factory=dict)
    per_hour: dict[str, int] = field(default_factory=dict)  # "2026-12-03T22:00Z" -> count

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def hour_of(t: float) -> str:
    return datetime.fromtimestamp(t - t % 3600, UTC).strftime("%Y-%m-%dT%H:00Z")


async def summarise(events: AsyncIterable[dict[str, Any]], top: int = 10) -> Summary:
    """One pass over `events` (any order)."""
    counters: dict[str, Counter[str]] = {
        k: Counter() for k in ("event", "action", "rule", "category", "client", "ua")
    }
    hours: Counter[float] = Counter()
    out = Summary()
    async for e in events:
        out.total += 1
        if refused(e):
            out.refused += 1
        else:
            out.let_through += 1
        _bounded_add(counters["event"], str(e.get("event", "decision")))
        _bounded_add(counters["action"], str(e.get("action")))
        _bounded_add(counters["rule"], str(e.get("rule")))
        _bounded_add(counters["category"], category_of(e) or "-")
        _bounded_add(counters["client"], str(e.get("client_key")))
        _bounded_add(counters["ua"], str(e.get("user_agent", ""))[:200])
        try:
            t = float(e.get("time", 0.0))
        except (TypeError, ValueError):
            continue
        out.first = t if out.first is None else min(out.first, t)
        out.last = t if out.last is None else max(out.last, t)
        hours[t - t % 3600] += 1
        if len(hours) > _MAX_HOURS:
            del hours[min(hours)]
    out.by_event = dict(counters["event"].most_common())
    out.by_action = dict(counters["action"].most_common())
    out.by_rule = dict(counters["rule"].most_common(top))
    out.by_category = dict(counters["category"].most_common(top))
    out.by_client = dict(counters["client"].most_common(top))
    out.by_user_agent = dict(counters["ua"].most_common(top))
    out.per_hour = {hour_of(h): hours[h] for h in sorted(hours)}
    return out
