"""A bounded sample of allowed requests from catalogued crawlers: "was my work served to it?"

Only requests the user-agent detector named (`bot/<name>` among the decision's reasons) are
candidates, and at most `served_per_minute` of them per process are written (a fixed window), so
a crawler fetching thousands of images a minute cannot flush the block log's bounded stream.
"""

from __future__ import annotations

import time
from functools import cached_property

from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.catalogue_match import AgentMatcher
from scrapeshield.signals import Decision, Signal

ROBOTS_EVENT = "robots/fetched"  # a catalogued crawler read robots.txt (which version: evidence)
ROBOTS_RULE = "directives/robots.txt"


def names_agent(decision: Decision) -> bool:
    """True when a catalogue agent was named (`bot/<name>`, not `bot/allowed/...`)."""
    for signal in decision.reasons:
        name = signal.name
        if name.startswith("bot/") and "/" not in name[4:]:
            return True
    return False


class ServedSampler:
    """At most `per_minute` takes per wall-clock minute."""

    def __init__(self, per_minute: int, data_dir: str | None = None) -> None:
        self.per_minute = per_minute
        self.data_dir = data_dir
        self._minute = 0
        self._taken = 0
        self.skipped = 0  # over the bound: not recorded

    def take(self, now: float | None = None) -> bool:
        minute = int((time.time() if now is None else now) // 60)
        if minute != self._minute:
            self._minute, self._taken = minute, 0
        if self._taken >= self.per_minute:
            self.skipped += 1
            return False
        self._taken += 1
        return True

    @cached_property
    def _matcher(self) -> AgentMatcher:
        return AgentMatcher(load_catalogue(self.data_dir))

    def agent_signals(self, user_agent: str) -> tuple[Signal, ...]:
        """`ua/category/<c>` and `bot/<name>` for a catalogued user agent (as the user-agent
        detector names them), else (); for requests no detector saw (robots.txt)."""
        match = self._matcher.match(user_agent[:512])
        if match is None:
            return ()
        agent = match.agent
        return (Signal(f"ua/category/{agent.category}", 0.0), Signal(f"bot/{agent.name}", 0.0))
