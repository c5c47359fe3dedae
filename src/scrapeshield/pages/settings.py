"""The `pages` settings section: languages, branding and template overrides (docs/pages.md).

Everything is checked when the settings are built: an operator's template that does not compile
or render, or a catalogue with an unknown key or placeholder, is a ConfigurationError naming the
setting at start-up, never an error page at request time.
"""

from __future__ import annotations

import urllib.parse
from typing import Annotated

from pydantic import ValidationInfo, field_validator
from pydantic_settings import NoDecode

from scrapeshield.pages import catalogue
from scrapeshield.pages.render import check_templates
from scrapeshield.settings_base import Section, split_commas

_CONTACT_SCHEMES = frozenset({"https", "http", "mailto"})


def _printable(value: str) -> bool:
    return value.isprintable() and not any(c.isspace() for c in value.replace(" ", ""))


class PagesSettings(Section):
    """How refusal and challenge pages look and which language they speak.

    `languages`: the languages offered (empty: every catalogue found, packaged or in
    `catalogue_dir`); `default_language` is used when `Accept-Language` names none of them.
    `contact_url` (https, http, mailto or a path on the site; `{request_id}` in it is replaced
    by the request's id) is where a person blocked by mistake appeals. `logo_url` is a path on
    the site itself: the challenge page loads nothing from another origin.
    """

    template_dir: str | None = None
    catalogue_dir: str | None = None
    default_language: str = "en"
    languages: Annotated[list[str], NoDecode] = []
    contact_url: str | None = None
    logo_url: str | None = None

    _split = field_validator("languages", mode="before")(split_commas)

    @field_validator("contact_url")
    @classmethod
    def _contact(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = urllib.parse.urlsplit(value).scheme.lower()
        path = value.startswith("/") and not value.startswith("//")
        if not _printable(value) or not (path or scheme in _CONTACT_SCHEMES):
            raise ValueError(
                "expected an https:, http: or mailto: URL, or a path on the site such as "
                "/contact (it may contain {request_id})"
            )
        return value

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("/") or value.startswith("//") or not _printable(value):
            raise ValueError(
                "expected a path on the site such as /static/logo.svg (the challenge page "
                "loads nothing from another origin: its Content-Security-Policy is img-src 'self')"
            )
        return value

    @field_validator("template_dir")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        if value is not None:
            check_templates(value)
        return value

    @field_validator("catalogue_dir")
    @classmethod
    def _catalogues(cls, value: str | None) -> str | None:
        catalogue.load(value)
        return value

    @field_validator("default_language")
    @classmethod
    def _default(cls, value: str, info: ValidationInfo) -> str:
        return _with_catalogues([catalogue.language_tag(value)], info)[0]

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _with_catalogues([catalogue.language_tag(v) for v in values], info)


def _with_catalogues(languages: list[str], info: ValidationInfo) -> list[str]:
    """The languages, each with a catalogue (packaged, or in a valid `catalogue_dir`)."""
    if "catalogue_dir" not in info.data:
        return languages  # catalogue_dir is wrong: reported on its own
    known = catalogue.load(info.data["catalogue_dir"])
    missing = sorted(set(languages) - set(known))
    if missing:
        raise ValueError(
            f"no catalogue for {missing} (have {sorted(known)}; add <language>.toml to "
            "catalogue_dir)"
        )
    return languages
