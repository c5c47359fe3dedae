"""Shared by the pages tests: a gallery whose paths decide the page (block, throttle, challenge)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.settings import Settings
from scrapeshield.signals import Signal
from tests.browsers import chrome
from tests.challenge.helpers import KEY

PAGES = {"block": "/artworks/2", "throttle": "/artworks/3", "challenge": "/artworks/4"}
"""The path whose request gets each page."""

JAPANESE = chrome(**{"Accept-Language": "ja,en;q=0.8"})
ENGLISH = chrome()
TITLES = {
    "en": {
        "block": "Access denied",
        "throttle": "Too many requests",
        "challenge": "Checking your browser",
    },
    "ja": {
        "block": "アクセスできません",
        "throttle": "リクエストが多すぎます",
        "challenge": "ブラウザを確認しています",
    },
}


class ByPath(Immediate):
    """A signal per page path (`test/block`, `test/throttle` with a 30 s retry,
    `test/challenge`), which the settings' policy rules turn into that action."""

    name = "test-by-path"
    uses_store = False

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        for action, path in PAGES.items():
            if facts.path == path:
                retry = 30.0 if action == "throttle" else None
                return (Signal(f"test/{action}", 0.0, "test", retry_after=retry),)
        return ()


def page_settings(**extra: Any) -> Settings:
    """Settings whose policy answers ByPath's signals with their action."""
    rules = [
        {"name": f"test-{action}", "signals": [f"test/{action}"], "action": action}
        for action in PAGES
    ]
    options: dict[str, Any] = {
        "site_name": "Test Gallery",
        "terms_url": "/terms",
        "challenge": {"secret_keys": [KEY], "difficulty": 8, "max_difficulty": 8},
        "policy": {"rules": rules},
    }
    options.update(extra)
    return Settings(**options)
