"""Signals every request can be judged on without a catalogue: missing or oversized user agent."""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.detectors.base import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.signals import Signal

EMPTY_UA = Signal("ua/empty", 50.0, "no User-Agent header: every browser sends one")


class BasicUserAgentDetector:
    """Browsers always send a User-Agent of modest length; its absence is a strong bot signal."""

    name = "ua-basic"
    uses_store = False

    async def detect(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        if not facts.user_agent.strip():
            return (EMPTY_UA,)
        if facts.user_agent_truncated:
            return (Signal("ua/oversized", 30.0, "User-Agent longer than the configured cap"),)
        return ()
