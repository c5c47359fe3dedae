"""The `challenge` settings section: keys, difficulty, the pass cookie and the no-JS fallback."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from scrapeshield.settings_base import Section, check_cookie_name, check_key_lengths, split_commas


class ChallengeSettings(Section):
    """How challenged clients prove they run a browser (see docs/challenge.md).

    `secret_keys`: the first signs, every one verifies, so a key is rotated by putting the new
    one first and dropping the old one after `cookie_ttl`. With none, each process makes a
    random key at start-up (fine for one worker; several workers need a shared key).
    """

    enabled: bool = True
    secret_keys: Annotated[list[SecretStr], NoDecode] = []
    path: str = Field(default="/.scrapeshield/challenge", pattern=r"^/[A-Za-z0-9_./-]+$")
    difficulty: int = Field(default=16, ge=1, le=32)
    difficulty_step: float = Field(default=10.0, gt=0)
    max_difficulty: int = Field(default=20, ge=1, le=32)
    challenge_ttl: float = Field(default=300.0, ge=10, le=86_400)
    status: int = Field(default=403, ge=200, le=599)
    cookie_name: str = "scrapeshield_pass"
    cookie_ttl: float = Field(default=86_400.0, ge=60, le=30 * 86_400)
    budget_free: float = Field(default=0.5, ge=0, le=10)
    budget_step: float = Field(default=0.25, gt=0, le=10)
    ipv4_prefix: int = Field(default=32, ge=8, le=32)
    ipv6_prefix: int = Field(default=64, ge=16, le=128)
    noscript_fallback: bool = True
    noscript_wait: float = Field(default=5.0, ge=1, le=120)
    noscript_pass_excludes: list[str] = ["images"]
    json_route_groups: list[str] = ["api", "images", "thumbnails", "assets"]
    replay_protection: bool = True

    _keys = field_validator("secret_keys", mode="before")(split_commas)

    _key_lengths = field_validator("secret_keys")(check_key_lengths)
    _cookie_name = field_validator("cookie_name")(check_cookie_name)

    @field_validator("status")
    @classmethod
    def _status(cls, value: int) -> int:
        if 300 <= value < 400:
            raise ValueError("a challenge page cannot be a redirect (use 200, 403, 429...)")
        return value

    @model_validator(mode="after")
    def _difficulty_range(self) -> ChallengeSettings:
        if self.max_difficulty < self.difficulty:
            raise ValueError(
                f"max_difficulty ({self.max_difficulty}) is below difficulty ({self.difficulty})"
            )
        if self.noscript_wait >= self.challenge_ttl:
            raise ValueError(
                f"noscript_wait ({self.noscript_wait}) must be below challenge_ttl "
                f"({self.challenge_ttl}): the wait link expires with the challenge"
            )
        return self
