"""The `fingerprint` settings section: which bot categories and agents the operator allows.

Imports only settings_base and the catalogue's category list (never scrapeshield.settings).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from scrapeshield.fingerprint.catalogue import CATEGORIES
from scrapeshield.settings_base import Section

# Categories whose claims are verified (IP ranges / reverse DNS) and then allowed by default.
DEFAULT_VERIFIED = ("search-engine", "social-preview", "feed-reader", "archiver", "monitor")


def _check_categories(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in CATEGORIES]
    if unknown:
        raise ValueError(f"unknown categories {unknown} (expected some of {list(CATEGORIES)})")
    return values


class FingerprintSettings(Section):
    """Bot fingerprinting: the catalogue, header checks, verification of good bots.

    `allow_categories` / `allow_agents` let the operator admit e.g. `ai-search` or one agent by
    name (a claim that can be verified still must be); `block_categories` blocks a category the
    default policy would allow. `data_dir` is where `scrapeshield update-data` writes refreshed
    data and where the detectors read it (None: the packaged snapshot only).

    Good bots that cannot be verified (`verification = "none"`) get only the route groups in
    `unverified_bot_groups` and `unverified_bot_limit` requests per `unverified_bot_window`
    seconds per network. `header_order` judges the order of a browser's headers.

    `datacenter` raises `network/datacenter` for an address in a cloud provider's published
    ranges (its weight is the policy's); `datacenter_ranges_file` adds the operator's own
    ranges (one CIDR a line, optionally followed by a label), read at start-up.
    """

    enabled: bool = True
    allow_categories: list[str] = []
    allow_agents: list[str] = []
    block_categories: list[str] = []
    header_checks: bool = True
    verify: bool = True
    verify_timeout: float = Field(default=1.0, gt=0, le=10)
    verify_cache_ttl: float = Field(default=3600.0, gt=0)
    verify_cache_size: int = Field(default=10_000, ge=16)
    ua_cache_size: int = Field(default=4096, ge=16, le=1_000_000)
    web_bot_auth: bool = True
    data_dir: str | None = None
    unverified_bot_groups: list[str] = ["default"]
    unverified_bot_limit: int = Field(default=60, ge=1, le=1_000_000)
    unverified_bot_window: float = Field(default=600.0, ge=1, le=86_400)
    header_order: bool = True
    datacenter: bool = True
    datacenter_ranges_file: str | None = None

    _allow = field_validator("allow_categories", "block_categories")(_check_categories)
