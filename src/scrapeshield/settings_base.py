"""Building blocks for settings sections; each concern defines its section in its own module.

A section module imports only this one (never `scrapeshield.settings`), and `Settings` gets one
field per section, e.g. `ratelimit: RateLimitSettings = RateLimitSettings()`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

MIN_KEY_LENGTH = 16
"""Signing keys and shared secrets: shorter ones are guessable offline from one signed value."""
_COOKIE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


def check_cidrs(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IP address or CIDR "
                "(expected e.g. 10.0.0.0/8 or 2001:db8::/32)"
            ) from None
    return [v.strip() for v in values]


def split_commas(value: Any) -> Any:
    """Let list settings be given in the environment as `a,b` as well as JSON `["a","b"]`."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def check_key_lengths(keys: list[SecretStr]) -> list[SecretStr]:
    """Every signing key or shared secret at least MIN_KEY_LENGTH characters."""
    for index, key in enumerate(keys):
        if len(key.get_secret_value()) < MIN_KEY_LENGTH:
            raise ValueError(
                f"key #{index + 1} is shorter than {MIN_KEY_LENGTH} characters "
                "(make one with: python -c 'import secrets; print(secrets.token_urlsafe())')"
            )
    return keys


def check_cookie_name(value: str) -> str:
    if not _COOKIE_NAME.match(value):
        raise ValueError("a cookie name is 1-64 letters, digits, '_', '.' or '-'")
    return value
