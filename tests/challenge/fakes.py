"""Tiny detectors standing in for defences built elsewhere (the identity branch's budgets)."""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.identity.settings import BudgetSettings
from scrapeshield.signals import Signal

REFUSE_FACTOR = BudgetSettings().visitor.refuse_factor


class BudgetUse(Immediate):
    """Notes `budget_use` as the identity defences do; over 1.0 on originals it also emits
    `budget/visitor/hour` (a challenge), and past the refuse mark (the visitor budget's
    default refuse_factor) `budget/visitor/hour/refuse` (a decoy), as they do."""

    name = "fake-budget"
    uses_store = False

    def __init__(self, use: float, groups: Sequence[str] = ("images",)) -> None:
        self.use = use
        self.groups = frozenset(groups)

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        ctx.notes["budget_use"] = self.use
        if self.use <= 1.0 or facts.route_group not in self.groups:
            return ()
        detail = f"{self.use:.0%} of the hour's originals"
        if self.use > REFUSE_FACTOR:
            return (Signal("budget/visitor/hour/refuse", 0.0, detail),)
        return (Signal("budget/visitor/hour", 0.0, detail),)
