"""Tiny detectors standing in for defences built elsewhere (the identity branch's budgets)."""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.signals import Signal


class BudgetUse(Immediate):
    """Notes `budget_use` as the identity defences will; over 1.0 on originals, it also emits
    `budget/visitor/hour` as they will."""

    name = "fake-budget"
    uses_store = False

    def __init__(self, use: float, groups: Sequence[str] = ("images",)) -> None:
        self.use = use
        self.groups = frozenset(groups)

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        ctx.notes["budget_use"] = self.use
        if self.use > 1.0 and facts.route_group in self.groups:
            return (Signal("budget/visitor/hour", 0.0, f"{self.use:.0%} of the hour's originals"),)
        return ()
