"""Which events to keep: `EventFilter`, and what an event says about its agent and outcome
(schema 2 fields, else its reasons: schema 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scrapeshield.blocklog import STATE_EVENT


def category_of(event: dict[str, Any]) -> str | None:
    """The event's catalogue category (schema 2), else the one its reasons name (schema 1)."""
    found = event.get("category")
    if found:
        return str(found)
    for reason in event.get("reasons") or ():
        name = str(reason.get("name", "")) if isinstance(reason, dict) else ""
        if name.startswith("ua/category/"):
            return name[12:]
    return None


def agent_of(event: dict[str, Any]) -> str | None:
    """The catalogue agent the event names (schema 2), else from its reasons (`bot/<name>`)."""
    found = event.get("agent")
    if found:
        return str(found)
    for reason in event.get("reasons") or ():
        name = str(reason.get("name", "")) if isinstance(reason, dict) else ""
        if name.startswith("bot/") and "/" not in name[4:]:
            return name[4:]
    return None


def refused(event: dict[str, Any]) -> bool:
    """The client was refused (an enforced decision other than allow)."""
    return event.get("action", "allow") != "allow" and bool(event.get("enforced", True))


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to keep; every given field must match. `rule` and `path` are prefixes,
    `agent` matches the catalogue name or, failing that, a substring of the user agent."""

    client: str | None = None
    action: str | None = None
    rule: str | None = None
    category: str | None = None
    path: str | None = None
    agent: str | None = None
    event: str | None = None
    request_id: str | None = None
    since: float | None = None
    until: float | None = None

    def matches(self, e: dict[str, Any]) -> bool:
        if e.get("event") == STATE_EVENT:
            return False
        if self.client is not None and e.get("client_key") != self.client:
            return False
        if self.action is not None and e.get("action") != self.action:
            return False
        if self.rule is not None and not str(e.get("rule", "")).startswith(self.rule):
            return False
        if self.path is not None and not str(e.get("path", "")).startswith(self.path):
            return False
        if self.event is not None and e.get("event", "decision") != self.event:
            return False
        if self.request_id is not None and e.get("request_id") != self.request_id:
            return False
        if self.category is not None and category_of(e) != self.category:
            return False
        if self.agent is not None and not self._agent(e):
            return False
        t = event_time(e)
        return (self.since is None or t >= self.since) and (self.until is None or t <= self.until)

    def _agent(self, e: dict[str, Any]) -> bool:
        wanted = str(self.agent).lower()
        named = agent_of(e)
        if named is not None:
            return named.lower() == wanted
        return wanted in str(e.get("user_agent", "")).lower()


def event_time(e: dict[str, Any]) -> float:
    """An event's time, 0 when it has none or not a number (an odd log line)."""
    try:
        return float(e.get("time", 0.0))
    except (TypeError, ValueError):
        return 0.0
