"""Directives: robots.txt and the AI opt-out signals, served and attached from settings.

Owns robots.txt (with AI rules and the trap path), TDMRep, ai.txt, the `X-Robots-Tag`,
`TDM-Reservation` and `Content-Usage` response fields, the HTML meta tags, and their settings
(`[directives]`). The endpoints and filters the shield uses are built in `directives.build`.
See docs/directives.md for every signal, who honours it and the exact syntax emitted.

May import the pipeline core (`facts`, `signals`, `errors`, `settings_base`) and the crawler
catalogue (`fingerprint.catalogue`); never `shield` or `middleware`. This root imports only the
settings section, so `scrapeshield.settings` can import it without a cycle; the other names are
imported from their module (`_HOMES`) on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from scrapeshield.directives.settings import DirectivesSettings, PathPreferences, Preferences

_HOMES = {
    "APP_SCOPE_KEY": "served",
    "BodyRewriter": "base",
    "DirectiveHeaders": "headers",
    "Endpoint": "base",
    "Headers": "base",
    "HtmlInjector": "html",
    "Markup": "html",
    "ResponseFilter": "base",
    "build_endpoints": "build",
    "build_response_filters": "build",
    "generated_robots": "build",
    "meta_tags": "html",
    "trap_paths": "build",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"scrapeshield.directives.{home}"), name)


__all__ = [
    "APP_SCOPE_KEY",
    "BodyRewriter",
    "DirectiveHeaders",
    "DirectivesSettings",
    "Endpoint",
    "Headers",
    "HtmlInjector",
    "Markup",
    "PathPreferences",
    "Preferences",
    "ResponseFilter",
    "build_endpoints",
    "build_response_filters",
    "generated_robots",
    "meta_tags",
    "trap_paths",
]
