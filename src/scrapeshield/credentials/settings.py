"""The `credentials` setting: how the app's own clients (mobile apps, API clients) prove it.

    [[credentials]]
    name = "ios-app"
    header = "x-app-signature"
    secret_keys = ["<at least 16 characters, shared with the app>"]

A request whose credential is valid is allowed before any fingerprinting (`first-party/<name>`);
its rate limits and bans still apply. See docs/api-clients.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from scrapeshield.settings_base import Section, check_key_lengths, split_commas

_HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"  # an RFC 9110 token


class CredentialSpec(Section):
    """One kind of first-party credential, carried in `header`, checked one of two ways.

    - `verify`: a Python function given the header's value, returning `True` (exactly) when the
      app accepts it (an API key looked up in a set, a token checked by your auth library).
      Python only; synchronous, since it runs in the request path.
    - `secret_keys`: the header carries `t=<unix seconds>,v1=<hex HMAC-SHA256>` over
      `METHOD\\nPATH\\nTIMESTAMP` with one of these keys, made at most `max_age` seconds from now
      (either way, for clock skew). Every key verifies, so a key is rotated by adding the new
      one, updating the clients, then dropping the old one.
    """

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    header: str = Field(min_length=1, max_length=64, pattern=_HEADER_NAME)
    verify: Callable[[str], bool] | None = Field(default=None, exclude=True)
    secret_keys: Annotated[list[SecretStr], NoDecode] = []
    max_age: float = Field(default=300.0, gt=0, le=86_400)

    _keys = field_validator("secret_keys", mode="before")(split_commas)

    _key_lengths = field_validator("secret_keys")(check_key_lengths)

    @field_validator("header")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("verify")
    @classmethod
    def _synchronous(cls, value: Callable[[str], bool] | None) -> Callable[[str], bool] | None:
        if value is not None and inspect.iscoroutinefunction(value):
            raise ValueError(
                "verify must be a plain function returning True or False, not a coroutine "
                "function (it runs on every request that carries the header)"
            )
        return value

    @model_validator(mode="after")
    def _one_check(self) -> CredentialSpec:
        if (self.verify is None) == (not self.secret_keys):
            raise ValueError(
                f"credential {self.name!r}: give either `verify` (a Python callable) or "
                "`secret_keys` (HMAC-signed header), not both and not neither"
            )
        return self
