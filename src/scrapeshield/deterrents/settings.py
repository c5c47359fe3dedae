"""The `decoy` and `tarpit` settings sections (docs/actions.md)."""

from __future__ import annotations

from collections.abc import Callable
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
