"""The `decoy`, `tarpit` and `pay_per_crawl` settings sections (docs/actions.md)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import Field, model_validator

from scrapeshield.settings_base import Section


class DecoySettings(Section):
    """What a `decoy` verdict sends on an image route; elsewhere it is a block.

    `responder(decision, facts)`, sync or async, returns `(bytes, content_type)`, an ASGI app,
    or None for the built-in placeholder: e.g. a downscaled or watermarked original. Not
    settable from TOML or the environment.
    """

    route_groups: list[str] = ["images"]
    responder: Callable[..., Any] | None = Field(default=None, exclude=True)


class TarpitSettings(Section):
    """How long a `tarpit` verdict holds a request before its refusal (403, or 429 when a rate
    limit decided), and how many may be held at once per process (past it: refused at once).

    delay = min(max_delay, base_delay + delay_per_point × (score − challenge_score, if > 0))
    """

    base_delay: float = Field(default=2.0, ge=0, le=60)
    max_delay: float = Field(default=10.0, gt=0, le=120)
    delay_per_point: float = Field(default=0.05, ge=0, le=10)
    max_concurrent: int = Field(default=64, ge=0, le=100_000)

    @model_validator(mode="after")
    def _delays(self) -> TarpitSettings:
        if self.max_delay < self.base_delay:
            raise ValueError(
                f"max_delay ({self.max_delay}) is below base_delay ({self.base_delay})"
            )
        return self


class PayPerCrawlSettings(Section):
    """Pay per crawl (off by default): a verified, signed crawler (Web Bot Auth) that would be
    blocked is answered `402` with `crawler-price` instead, and let in when it offers the price
    (`crawler-exact-price` / `crawler-max-price`, covered by its signature); each charge is
    logged on `scrapeshield.charges` for the site to bill. An integration point, not a payment
    system (docs/actions.md)."""

    enabled: bool = False
    price: Decimal = Field(default=Decimal("0.01"), gt=0, max_digits=12, decimal_places=6)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    agents: list[str] = []
    """Catalogue names offered the price; empty: every verified signed crawler."""
