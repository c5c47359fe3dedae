"""scrapeshield: ASGI middleware that stops scrapers from harvesting artwork.

from scrapeshield import ScrapeShield, Settings
app.add_middleware(ScrapeShield, settings=Settings.from_file("scrapeshield.toml"))
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from scrapeshield import _compat

if TYPE_CHECKING:
    from scrapeshield.bans import Ban
    from scrapeshield.blocklog import BlockEvent
    from scrapeshield.credentials.settings import CredentialSpec
    from scrapeshield.errors import (
        ConfigurationError,
        ScrapeShieldError,
        StoreError,
        StoreUnavailable,
    )
    from scrapeshield.facts import Facts
    from scrapeshield.marks import route
    from scrapeshield.middleware import ScrapeShield
    from scrapeshield.rules import blocklist, safelist
    from scrapeshield.settings import (
        PolicyRuleSpec,
        PolicySettings,
        RouteGroupSpec,
        RuleSpec,
        Settings,
    )
    from scrapeshield.shield import Shield
    from scrapeshield.signals import Action, Decision, Signal

__version__ = "0.1.0"

_compat.install()  # old module paths (before the packages by concern) work for one release

_HOMES = {
    "Action": "scrapeshield.signals",
    "Ban": "scrapeshield.bans",
    "BlockEvent": "scrapeshield.blocklog",
    "ConfigurationError": "scrapeshield.errors",
    "CredentialSpec": "scrapeshield.credentials.settings",
    "Decision": "scrapeshield.signals",
    "Facts": "scrapeshield.facts",
    "PolicyRuleSpec": "scrapeshield.settings",
    "PolicySettings": "scrapeshield.settings",
    "RouteGroupSpec": "scrapeshield.settings",
    "RuleSpec": "scrapeshield.settings",
    "ScrapeShield": "scrapeshield.middleware",
    "ScrapeShieldError": "scrapeshield.errors",
    "Settings": "scrapeshield.settings",
    "Shield": "scrapeshield.shield",
    "Signal": "scrapeshield.signals",
    "StoreError": "scrapeshield.errors",
    "StoreUnavailable": "scrapeshield.errors",
    "blocklist": "scrapeshield.rules",
    "route": "scrapeshield.marks",
    "safelist": "scrapeshield.rules",
}
"""Where each public name lives: imported on first use (PEP 562), so that a program that needs
one part (the `scrapeshield` command's `--help`, `log`, `bans`) does not import the shield,
its detectors and their data."""


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'scrapeshield' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # once: the next lookup is a plain global
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "Action",
    "Ban",
    "BlockEvent",
    "ConfigurationError",
    "CredentialSpec",
    "Decision",
    "Facts",
    "PolicyRuleSpec",
    "PolicySettings",
    "RouteGroupSpec",
    "RuleSpec",
    "ScrapeShield",
    "ScrapeShieldError",
    "Settings",
    "Shield",
    "Signal",
    "StoreError",
    "StoreUnavailable",
    "__version__",
    "blocklist",
    "route",
    "safelist",
]
