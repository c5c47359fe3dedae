"""The `dashboard` settings section: who may open the operators' dashboard (docs/dashboard.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from scrapeshield.settings_base import Section, check_cookie_name, check_key_lengths, split_commas


class DashboardSettings(Section):
    """`tokens`: bearer tokens an operator logs in with (or a script or Prometheus sends as
    `Authorization: Bearer`); without one, `dashboard_app` needs an `authorize` callable.
    `secret_keys` sign session cookies and CSRF tokens (default: derived from the tokens)."""

    tokens: Annotated[list[SecretStr], NoDecode] = []
    secret_keys: Annotated[list[SecretStr], NoDecode] = []
    session_ttl: float = Field(default=8 * 3600.0, gt=0, le=30 * 86400)
    cookie_name: str = "__ss_dash"
    tail_interval: float = Field(default=2.0, ge=0.5, le=60)

    _split = field_validator("tokens", "secret_keys", mode="before")(split_commas)
    _lengths = field_validator("tokens", "secret_keys")(check_key_lengths)
    _cookie = field_validator("cookie_name")(check_cookie_name)
