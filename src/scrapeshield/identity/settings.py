"""The `identity` settings section: the visitor token, originals budgets, issuance limits and
the rotating-pool signal (docs/identity.md gives the reason for every default)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from scrapeshield.settings_base import (
    Section,
    check_cookie_name,
    check_key_lengths,
    split_commas,
)

_DAY = 86_400.0


class BudgetSpec(Section):
    """Distinct originals one identity may fetch per sliding hour and per day (0: no budget).

    Past a budget the `budget/<scope>/<period>` signal challenges; past `refuse_factor` times
    the budget, `budget/<scope>/<period>/refuse` refuses (0: never refused, challenge only).
    """

    hour: int = Field(default=0, ge=0, le=1000)
    day: int = Field(default=0, ge=0, le=2000)
    refuse_factor: float = Field(default=1.6, ge=0, le=10)

    @field_validator("refuse_factor")
    @classmethod
    def _factor(cls, value: float) -> float:
        if 0 < value < 1:
            raise ValueError("refuse_factor is 0 (never refuse) or at least 1")
        return value


class BudgetSettings(Section):
    """Originals budgets per visitor (token, or the address when there is none), per address
    and per network. Counted on `route_groups` (the originals); read on page navigations."""

    enabled: bool = True
    route_groups: list[str] = ["images"]
    # docs/identity.md#why-these-numbers: a pass buys 8 originals past the visitor's hour (40,
    # refused past 48, below the efficacy target of 50 for a client that solves challenges);
    # a network's hour is one visitor's (rotation within it buys nothing), challenge only.
    visitor: BudgetSpec = BudgetSpec(hour=40, day=150, refuse_factor=1.2)
    address: BudgetSpec = BudgetSpec(hour=100, day=400, refuse_factor=1.6)
    network: BudgetSpec = BudgetSpec(hour=40, day=300, refuse_factor=0)
    # docs/identity.md#newcomers: distinct originals that the young identities (no token, or
    # one issued this clock hour) of one network and header fingerprint take together per
    # clock hour; past it their originals are refused (0: off). Two visitors' refuse marks.
    newcomers: int = Field(default=96, ge=0, le=10_000)


class RotatingPoolSettings(Section):
    """One header fingerprint from more than `identities` young identities (no valid token, or
    one younger than `window`) within `window` seconds: `identity/rotating-pool`. A busy site
    has thousands of new visitors on its most common browser builds and raises `identities`
    past them (docs/production.md); the memory store counts at most 4,096 members a set."""

    enabled: bool = True
    window: float = Field(default=600.0, ge=10, le=_DAY)
    identities: int = Field(default=16, ge=2, le=1_000_000)


class IdentitySettings(Section):
    """The visitor token and what keys on it. `secret_keys`: as `challenge.secret_keys` (the
    first signs, all verify); empty means the challenge's keys (a token kind of its own keeps a
    pass from being replayed as a visitor token and back)."""

    enabled: bool = True
    cookie_name: str = "__ss_vid"
    secret_keys: Annotated[list[SecretStr], NoDecode] = []
    max_age: float = Field(default=30 * _DAY, ge=3600, le=400 * _DAY)
    # The network a token is bound to and budgets count in: named as ratelimit's network prefixes
    # (`ipv6_prefix` alone means a client's own subscriber network, /64, everywhere else).
    network_ipv4_prefix: int = Field(default=24, ge=8, le=32)
    network_ipv6_prefix: int = Field(default=48, ge=16, le=128)
    window: float = Field(default=600.0, ge=10, le=_DAY)
    issuance_per_address: int = Field(default=10, ge=1, le=100_000)
    issuance_per_network: int = Field(default=30, ge=1, le=1_000_000)
    issuance_per_fingerprint: int = Field(default=30, ge=1, le=1_000_000)
    amnesia_issued: int = Field(default=3, ge=1, le=1000)
    budgets: BudgetSettings = BudgetSettings()
    rotating_pool: RotatingPoolSettings = RotatingPoolSettings()

    _keys = field_validator("secret_keys", mode="before")(split_commas)
    _key_lengths = field_validator("secret_keys")(check_key_lengths)
    _cookie_name = field_validator("cookie_name")(check_cookie_name)

    @model_validator(mode="before")
    @classmethod
    def _renamed_prefixes(cls, values: Any) -> Any:
        """`identity.ipv4_prefix`/`ipv6_prefix` were renamed: say so rather than "unknown"."""
        if isinstance(values, dict):
            old = [name for name in ("ipv4_prefix", "ipv6_prefix") if name in values]
            if old:
                raise ValueError(
                    ", ".join(f"identity.{name}: renamed identity.network_{name}" for name in old)
                    + " (the network a visitor token is bound to and budgets count in)"
                )
        return values
