"""The block log: every non-allow decision as one JSON line and one entry in the store's stream.

The logger is `scrapeshield.blocklog`; each record's message is the JSON object itself (a dict
whose `str` is its JSON), so a plain text handler writes one JSON line, and its fields are
also the record's attributes (`extra`), so JSON pipelines (python-json-logger, structlog's
ExtraAdder) write them as fields rather than as one escaped string. The same object goes to
the store's bounded event stream (a Redis Stream, or a ring buffer in memory) so `scrapeshield
log` can read it from any host. The schema is versioned (`schema`, docs/block-log.md).

Every client-controlled string is capped: a 60 KB path or header costs at most a few hundred
bytes per kept event.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: `scrapeshield log` reads the log without the request pipeline
    from scrapeshield.facts import Facts
    from scrapeshield.signals import Decision, Signal
    from scrapeshield.store.base import Store, StoredEvent

LOGGER_NAME = "scrapeshield.blocklog"
logger = logging.getLogger(LOGGER_NAME)
SCHEMA_VERSION = 2
"""1: the fields up to `reasons`; 2 adds `schema`, `agent`, `category` and `directives`."""
SERVED_EVENT = "served"  # a sampled allowed request of a known crawler (evidence)
STATE_EVENT = "directives"  # the record describing one directives state (evidence.states)
_MAX_UA_IN_LOG = 512
_MAX_PATH_IN_LOG = 1024  # a 64 KiB path would cost 64 KiB per stream entry (10,000 kept)
_MAX_ID_IN_LOG = 64  # a trusted X-Request-ID is still the client's (or proxy's) text
_MAX_DETAIL_IN_LOG = 256  # a signal's detail may quote a header
_MAX_NAME_IN_LOG = 128
_MAX_REASONS_IN_LOG = 16


class LogMessage(dict[str, Any]):
    """The record as a log message: a dict (JSON formatters merge it as fields) whose `str` is
    its JSON (what a plain formatter writes)."""

    def __str__(self) -> str:
        return json.dumps(self, separators=(",", ":"), ensure_ascii=True, default=str)


def _reason(signal: Signal) -> dict[str, Any]:
    out = signal.as_dict()
    out["name"] = signal.name[:_MAX_NAME_IN_LOG]
    if "detail" in out:
        out["detail"] = signal.detail[:_MAX_DETAIL_IN_LOG]
    return out


def agent_of(reasons: Iterable[Signal]) -> tuple[str | None, str | None]:
    """The catalogue agent and category the user-agent detector named (`bot/<name>`,
    `ua/category/<category>`), if any."""
    agent = category = None
    for signal in reasons:
        name = signal.name
        if name.startswith("ua/category/"):
            category = name[12:]
        elif name.startswith("bot/") and "/" not in name[4:]:
            agent = name[4:]
    return agent, category


@dataclass(frozen=True, slots=True)
class BlockEvent:
    """The schema of one block-log record (see docs/block-log.md)."""

    time: float
    request_id: str
    client_key: str
    client_ip: str | None
    user_agent: str
    method: str
    path: str
    route_group: str
    action: str
    rule: str
    score: float
    enforced: bool
    reasons: list[dict[str, Any]] = field(default_factory=list)
    event: str = "decision"
    agent: str | None = None
    category: str | None = None
    directives: str | None = None

    @classmethod
    def from_decision(
        cls,
        decision: Decision,
        facts: Facts,
        *,
        event: str = "decision",
        directives: str | None = None,
    ) -> BlockEvent:
        agent, category = agent_of(decision.reasons)
        return cls(
            time=round(facts.time, 3),
            request_id=facts.request_id[:_MAX_ID_IN_LOG],
            client_key=facts.client_key,
            client_ip=str(facts.client_ip) if facts.client_ip else None,
            user_agent=facts.user_agent[:_MAX_UA_IN_LOG],
            method=facts.method[:16],
            path=facts.path[:_MAX_PATH_IN_LOG],
            route_group=facts.route_group,
            action=decision.action.value,
            rule=decision.rule[:_MAX_NAME_IN_LOG],
            score=decision.score,
            enforced=decision.enforced,
            reasons=[_reason(s) for s in decision.reasons[:_MAX_REASONS_IN_LOG]],
            event=event,
            agent=agent,
            category=category,
            directives=directives,
        )

    def as_dict(self) -> dict[str, Any]:
        iso = datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds")
        return {
            "ts": iso.replace("+00:00", "Z"),
            "time": self.time,
            "event": self.event,
            "request_id": self.request_id,
            "client_key": self.client_key,
            "client_ip": self.client_ip,
            "user_agent": self.user_agent,
            "method": self.method,
            "path": self.path,
            "route_group": self.route_group,
            "action": self.action,
            "rule": self.rule,
            "score": self.score,
            "enforced": self.enforced,
            "reasons": self.reasons,
            "schema": SCHEMA_VERSION,
            "agent": self.agent,
            "category": self.category,
            "directives": self.directives,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"), ensure_ascii=True)


class BlockLog:
    """Writes events to the logger and the store; a store failure never loses the log line."""

    def __init__(self, store: Store, *, level: str = "WARNING") -> None:
        self.store = store
        self.level = logging.getLevelName(level)
        self.store_failures = 0

    async def write(self, event: BlockEvent, *, level: int | None = None) -> None:
        record = event.as_dict()
        emit(record, self.level if level is None else level)
        try:
            await self.store.append_event(record)
        except Exception:  # the logger line above is the record of last resort
            self.store_failures += 1


def emit(record: dict[str, Any], level: int, to: logging.Logger = logger) -> None:
    """One block-log record on the logger: the JSON line and its fields as attributes."""
    if to.isEnabledFor(level):
        to.log(level, LogMessage(record), extra=record)


async def read_events(
    store: Store, *, since: float | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    return [e.data for e in await store.read_events(since=since, limit=limit)]


def summarise(events: Iterable[dict[str, Any]], top: int = 10) -> dict[str, Any]:
    """Counts by action, rule and client (the busiest `top` of each)."""
    actions: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    clients: Counter[str] = Counter()
    events_by_kind: Counter[str] = Counter()
    total = 0
    for event in events:
        total += 1
        actions[str(event.get("action"))] += 1
        rules[str(event.get("rule"))] += 1
        clients[str(event.get("client_key"))] += 1
        events_by_kind[str(event.get("event", "decision"))] += 1
    return {
        "total": total,
        "by_event": dict(events_by_kind.most_common()),
        "by_action": dict(actions.most_common()),
        "by_rule": dict(rules.most_common(top)),
        "by_client": dict(clients.most_common(top)),
    }


def stored_to_dicts(events: Iterable[StoredEvent]) -> list[dict[str, Any]]:
    return [e.data for e in events]


def parse_since(text: str, now: float | None = None) -> float:
    """`90s`, `15m`, `1h`, `2d` (ago), an epoch number, or an ISO 8601 date or time (UTC unless
    it says otherwise: `2026-12-01`, `2026-12-01T10:00Z`) → epoch seconds."""
    now = time.time() if now is None else now
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = text.strip().lower()
    if len(text) >= 10 and text[:4].isdigit() and text[4] == "-":
        try:
            moment = datetime.fromisoformat(text.upper())
        except ValueError:
            raise ValueError(f"{text!r} is not a time") from None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    unit = units.get(text[-1:], 0)
    value = now - float(text[:-1]) * unit if unit else float(text)
    if not math.isfinite(value):  # "nan", "inf" would crash the store query
        raise ValueError(f"{text!r} is not a time")
    return value
