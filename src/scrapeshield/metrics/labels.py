"""Bounded label values: every rule name the settings and the pipeline can produce, and the
catalogue's categories. Anything else is `other`, so a label never grows with traffic."""

from __future__ import annotations

from collections.abc import Iterable

from scrapeshield.fingerprint.catalogue import CATEGORIES
from scrapeshield.policy.engine import UNANSWERED_PREFIX, load_default_policy
from scrapeshield.settings import Settings
from scrapeshield.signals import Action, Signal

OTHER = "other"
NONE = "none"
CATEGORY_PREFIX = "ua/category/"
BUDGET_PREFIX = "budget/"
BUDGET_SCOPES = ("visitor", "address", "network")
BUDGET_PERIODS = ("hour", "day")

# Rules the pipeline names by itself (shield.py, waivers.py, the challenge, escalation, bans).
FIXED_RULES = (
    "allow",
    "health",
    "cors-preflight",
    "ban/active",
    "ban/manual",
    "escalation/ban",
    "internal/fail-open",
    "internal/fail-closed",
    "store/fail-closed",
    "challenge/passed",
    "challenge/failed",
)
# Prefixes the shield puts before a policy rule's name when it waives or adjusts its action.
ADJUSTED = (UNANSWERED_PREFIX, "no-decoy/", "no-challenge/")
_CATEGORIES = frozenset(CATEGORIES)


def known_rules(settings: Settings) -> frozenset[str]:
    """Every rule name a decision can carry with these settings (policy rules as data, the
    thresholds, the operator's lists and credentials, the pipeline's own names)."""
    policy = settings.policy
    base = {rule.name for rule in policy.rules}
    if policy.use_default_rules:
        base |= {str(rule.get("name")) for rule in load_default_policy().get("rules", [])}
    base |= {f"score/{action.value}" for action in Action}
    names = set(FIXED_RULES) | base
    names |= {prefix + name for prefix in ADJUSTED for name in base}
    names |= {f"safelist/{rule.name}" for rule in settings.safelist}
    names |= {f"blocklist/{rule.name}" for rule in settings.blocklist}
    names |= {f"first-party/{spec.name}" for spec in settings.credentials}
    return frozenset(names)


def category_of(reasons: Iterable[Signal]) -> str:
    """The catalogue category a decision's reasons name (`ua/category/<c>`), else `none`."""
    for signal in reasons:
        if signal.name.startswith(CATEGORY_PREFIX):
            found = signal.name[len(CATEGORY_PREFIX) :]
            return found if found in _CATEGORIES else OTHER
    return NONE


def budget_of(name: str) -> tuple[str, str] | None:
    """(`<scope>/<period>`, `over` | `refuse`) for a `budget/...` signal name, else None."""
    parts = name.split("/")
    if len(parts) not in (3, 4) or parts[0] != "budget":
        return None
    outcome = "refuse" if len(parts) == 4 and parts[3] == "refuse" else "over"
    if parts[1] in BUDGET_SCOPES and parts[2] in BUDGET_PERIODS:
        return f"{parts[1]}/{parts[2]}", outcome
    return OTHER, outcome
