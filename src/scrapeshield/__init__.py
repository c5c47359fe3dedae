"""scrapeshield: ASGI middleware that stops scrapers from harvesting artwork.

from scrapeshield import ScrapeShield, Settings
app.add_middleware(ScrapeShield, settings=Settings.from_file("scrapeshield.toml"))
"""

from scrapeshield import _compat
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
from scrapeshield.settings import PolicyRuleSpec, PolicySettings, RouteGroupSpec, RuleSpec, Settings
from scrapeshield.shield import Shield
from scrapeshield.signals import Action, Decision, Signal

__version__ = "0.1.0"

_compat.install()  # old module paths (before the packages by concern) work for one release

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
