"""What the shield writes to the block log for a decision: the event named by its action (a
challenge's, a decoy's...), every observer told of it (the metrics count events by name), and
the directive state in force recorded with it (evidence), at INFO for what is not a refusal."""

from __future__ import annotations

import logging
from collections.abc import Callable

from scrapeshield.blocklog import SERVED_EVENT, BlockEvent, BlockLog
from scrapeshield.evidence.recorder import Evidence
from scrapeshield.evidence.served import ROBOTS_EVENT
from scrapeshield.facts import Facts
from scrapeshield.responding import EventNamer
from scrapeshield.signals import Action, Decision

logger = logging.getLogger("scrapeshield")

LogObserver = Callable[[Decision, str], None]


class DecisionLog:
    """`events`: the namer of a decision's event by action (`challenge/issued`...), filled by
    the actions as they are installed; `observers`: told of every event by name."""

    def __init__(self, blocklog: BlockLog, evidence: Evidence) -> None:
        self.blocklog, self.evidence = blocklog, evidence
        self.events: dict[Action, EventNamer] = {}
        self.observers: list[LogObserver] = []

    async def write(self, decision: Decision, facts: Facts, event: str = "decision") -> None:
        if event == "decision" and (namer := self.events.get(decision.action)):
            event = namer(decision, facts)
        for observe in self.observers:
            try:
                observe(decision, event)
            except Exception:  # an observer never costs the block-log line
                logger.exception("block-log observer %r failed", observe)
        directives = await self.evidence.directive_id(facts.path)
        record = BlockEvent.from_decision(decision, facts, event=event, directives=directives)
        quiet = event in (SERVED_EVENT, ROBOTS_EVENT)  # not refusals: INFO
        await self.blocklog.write(record, level=logging.INFO if quiet else None)

    async def served(self, decision: Decision, facts: Facts) -> None:
        """An allowed request of a catalogued crawler, within the sample's bound (evidence)."""
        if self.evidence.samples_served(decision):
            await self.write(decision, facts, SERVED_EVENT)
