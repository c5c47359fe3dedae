"""What the shield records for takedown evidence, in one place: the id of the directive state in
force for each block-log event, and the bounded sample of what catalogued crawlers were served
(their allowed requests and their robots.txt fetches)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapeshield.evidence.served import ServedSampler, names_agent
from scrapeshield.evidence.states import DirectiveStates
from scrapeshield.facts import Facts
from scrapeshield.signals import Decision, Signal
from scrapeshield.store.base import Store

if TYPE_CHECKING:
    from scrapeshield.settings import Settings


class Evidence:
    """Built once per shield from `[evidence]`; each part is None when its setting is off."""

    def __init__(self, settings: Settings, store: Store, endpoints: list[Any], level: int) -> None:
        section = settings.evidence
        self.states: DirectiveStates | None = None
        if section.directive_state:
            self.states = DirectiveStates(
                settings.directives, store, endpoints, ttl=section.states_ttl, level=level
            )
        self.served: ServedSampler | None = None
        if section.served_per_minute:
            self.served = ServedSampler(section.served_per_minute, settings.fingerprint.data_dir)

    async def directive_id(self, path: str) -> str | None:
        """The id of the directive state in force for this response (stored once per state)."""
        if self.states is None:
            return None
        try:
            return await self.states.record(path)
        except Exception:  # the store is down: the id still names the state (logged already)
            return self.states.state_for(path)[0]

    def samples_served(self, decision: Decision) -> bool:
        """An allowed request of a catalogued crawler that fits in the sample's bound."""
        return self.served is not None and names_agent(decision) and self.served.take()

    def robots_fetch(self, facts: Facts) -> tuple[Signal, ...] | None:
        """A catalogued crawler's robots.txt fetch that fits in the bound: the agent's signals."""
        if self.served is None or facts.path != "/robots.txt":
            return None
        reasons = self.served.agent_signals(facts.user_agent)
        return reasons if reasons and self.served.take() else None
