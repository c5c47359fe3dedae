"""Which content-usage preferences apply to a request: path prefixes, then the artist hook."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from scrapeshield.directives.settings import DirectivesSettings, PathPreferences, Preferences
from scrapeshield.facts import Facts

logger = logging.getLogger("scrapeshield")


class PreferenceResolver:
    """Longest matching path prefix, else the defaults; the operator's hook may override both.

    The hook receives the request's `Facts` and returns `Preferences` (an artist who opted in to
    AI training) or None (no opinion). It may be sync or async. A hook that raises is logged and
    ignored: the path preferences stand, so a bug never removes the opt-out silently.
    """

    __slots__ = ("_defaults", "_hook", "_paths")

    def __init__(self, settings: DirectivesSettings) -> None:
        self._defaults = settings.defaults
        self._paths: list[PathPreferences] = sorted(
            settings.paths, key=lambda p: len(p.prefix), reverse=True
        )
        self._hook = settings.preference_hook

    @property
    def defaults(self) -> Preferences:
        return self._defaults

    @property
    def path_rules(self) -> list[PathPreferences]:
        """Path preferences, longest prefix first."""
        return list(self._paths)

    @property
    def has_hook(self) -> bool:
        return self._hook is not None

    def for_path(self, path: str) -> Preferences:
        for rule in self._paths:
            if path.startswith(rule.prefix):
                return rule
        return self._defaults

    async def for_request(self, facts: Facts) -> Preferences:
        base = self.for_path(facts.path)
        if self._hook is None:
            return base
        try:
            result: Any = self._hook(facts)
            if inspect.isawaitable(result):
                result = await result
        except Exception:
            logger.exception("scrapeshield preference_hook failed for %s", facts.path)
            return base
        if result is None:
            return base
        if not isinstance(result, Preferences):
            logger.error("scrapeshield preference_hook returned %r, not Preferences", result)
            return base
        return result
