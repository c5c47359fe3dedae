"""`/.well-known/tdmrep.json`: W3C TDMRep location rules from the same preferences.

TDMRep (W3C Community Group Final Report) reads the first rule whose `location` pattern matches,
so path prefixes go first, longest first, and the site-wide default (`/*`) last.
"""

from __future__ import annotations

import json
from typing import Any

from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.served import StaticDocument
from scrapeshield.directives.settings import DirectivesSettings, Preferences

TDMREP_PATH = "/.well-known/tdmrep.json"


def _rule(location: str, prefs: Preferences, settings: DirectivesSettings) -> dict[str, Any]:
    rule: dict[str, Any] = {"location": location, "tdm-reservation": 0 if prefs.train_ai else 1}
    if not prefs.train_ai and settings.tdm_policy_url:
        rule["tdm-policy"] = settings.tdm_policy_url
    return rule


def render_tdmrep(settings: DirectivesSettings, preferences: PreferenceResolver) -> str:
    rules = [_rule(f"{p.prefix}*", p, settings) for p in preferences.path_rules]
    rules.append(_rule("/*", preferences.defaults, settings))
    return json.dumps(rules, indent=2) + "\n"


def tdmrep_endpoint(
    settings: DirectivesSettings, preferences: PreferenceResolver
) -> StaticDocument:
    return StaticDocument(
        TDMREP_PATH, render_tdmrep(settings, preferences), "application/json", max_age=86_400
    )
