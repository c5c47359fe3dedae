"""The `directives` settings section: what robots.txt, the opt-out headers and friends say."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from scrapeshield.errors import ConfigurationError
from scrapeshield.fingerprint.catalogue import CATEGORIES
from scrapeshield.settings_base import Section

_OLDER_NAMES = frozenset(
    {"train-genai", "foundation-model", "automated-processing", "ai-use", "train-ai"}
)
logger = logging.getLogger("scrapeshield")


class Preferences(Section):
    """Content-usage preferences for some content: may it train AI, may it be searched?"""

    train_ai: bool = False
    search: bool = True
    # Embedded in served images (image_metadata): a PLUS Data Mining code or URI (default from
    # train_ai), the terms URL, and the artist's rights statement and credit line.
    data_mining: str | None = None
    web_statement: str | None = None
    rights: str | None = None
    credit: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _older_aipref_names(cls, data: Any) -> Any:
        """Category names of earlier aipref vocabulary drafts, mapped to today's (-06)."""
        if not isinstance(data, dict):
            return data
        out = {k.replace("-", "_") if k in _OLDER_NAMES else k: v for k, v in data.items()}
        for old in ("train_genai", "foundation_model"):  # narrower/renamed forms of train-ai
            if old in out:
                value = out.pop(old)
                out.setdefault("train_ai", value)
        for old in ("bots", "automated_processing"):  # the parent of both categories
            if old in out:
                value = out.pop(old)
                if value is False:
                    out.setdefault("train_ai", False)
                    out.setdefault("search", False)
        if "ai_use" in out:  # no category today ("AI Input" is still a proposal)
            out.pop("ai_use")
            logger.warning("scrapeshield: the aipref 'ai-use' category was dropped; ignored")
        return out

    @field_validator("data_mining")
    @classmethod
    def _data_mining(cls, value: str | None) -> str | None:
        from scrapeshield.directives.xmp import DATA_MINING_CODES

        if value is None or value.startswith(("https://", "http://")) or value in DATA_MINING_CODES:
            return value
        raise ValueError(f"must be a PLUS Data Mining code ({', '.join(DATA_MINING_CODES)}) or URI")

    @field_validator("web_statement")
    @classmethod
    def _web_statement(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} must be an absolute http(s) URL")
        return value


class PathPreferences(Preferences):
    """Preferences for every path starting with `prefix` (the longest matching prefix wins)."""

    prefix: str = Field(min_length=1)

    @field_validator("prefix")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or any(c in value for c in "*$\n\r#"):
            raise ValueError("must be a plain path prefix starting with '/', no '*', '$' or '#'")
        return value


#: `(facts) -> Preferences | None`, sync or async: an individual artist's choice for a request.
PreferenceHook = Callable[[Any], "Preferences | Awaitable[Preferences | None] | None"]


def _check_path(value: str) -> str:
    if not value.startswith("/") or any(c in value for c in "\n\r#"):
        raise ValueError(f"{value!r} must be a path starting with '/' (no newline or '#')")
    return value


class DirectivesSettings(Section):
    """robots.txt and the AI opt-out signals (docs/directives.md)."""

    robots: Literal["generate", "merge", "off"] = "generate"
    robots_rules: str = ""
    robots_file: Path | None = None
    sitemaps: list[str] = []
    block_categories: list[str] = ["ai-training", "ai-dataset", "ai-assistant"]
    block_agents: list[str] = []
    allow_agents: list[str] = []
    disallow_paths: list[str] = []
    trap_paths: list[str] = []
    robots_max_age: int = Field(default=3600, ge=0, le=86_400 * 7)
    content_signal: bool = True

    defaults: Preferences = Preferences()
    paths: list[PathPreferences] = []
    preference_hook: Callable[..., Any] | None = Field(default=None, exclude=True)

    headers: bool = True
    noarchive: bool = False
    tdm_policy_url: str | None = None
    content_types: list[str] = ["text/html", "image/*"]
    inject_html: bool = False
    inject_max_lookahead: int = Field(default=65_536, ge=1024, le=1_048_576)

    image_metadata: bool = False
    image_metadata_groups: list[str] = ["images"]
    image_max_lookahead: int = Field(default=262_144, ge=1024, le=4_194_304)
    web_statement_url: str | None = None

    rsl: bool = False
    rsl_path: str = "/license.xml"
    rsl_base_url: str | None = None
    rsl_payment_type: (
        Literal["free", "purchase", "subscription", "training", "crawl", "use", "attribution"]
        | None
    ) = None
    rsl_payment_amount: float | None = Field(default=None, ge=0)
    rsl_payment_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    rsl_payment_url: str | None = None

    tdmrep_json: bool = True
    ai_txt: bool = True
    ai_txt_extensions: list[str] = [
        "jpg", "jpeg", "png", "gif", "webp", "avif", "bmp", "tif", "tiff", "svg", "heic",
    ]  # fmt: skip

    @field_validator("block_categories")
    @classmethod
    def _known_categories(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown} (known: {', '.join(CATEGORIES)})")
        return values

    @field_validator("block_agents", "allow_agents")
    @classmethod
    def _tokens(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.strip() or any(c in value for c in ":#\n\r"):
                raise ValueError(f"{value!r} is not a robots.txt product token")
        return [v.strip() for v in values]

    @field_validator("disallow_paths", "trap_paths")
    @classmethod
    def _paths(cls, values: list[str]) -> list[str]:
        return [_check_path(v) for v in values]

    @field_validator("rsl_path")
    @classmethod
    def _rsl_path(cls, value: str) -> str:
        return _check_path(value)

    @field_validator(
        "sitemaps", "tdm_policy_url", "web_statement_url", "rsl_base_url", "rsl_payment_url"
    )
    @classmethod
    def _urls(cls, value: Any) -> Any:
        for url in value if isinstance(value, list) else [value]:
            if url is not None and not str(url).startswith(("https://", "http://")):
                raise ValueError(f"{url!r} must be an absolute http(s) URL")
        return value

    @field_validator("content_types")
    @classmethod
    def _types(cls, values: list[str]) -> list[str]:
        for value in values:
            if "/" not in value:
                raise ValueError(f"{value!r} is not a media type like text/html or image/*")
        return [v.lower().strip() for v in values]

    @field_validator("ai_txt_extensions")
    @classmethod
    def _extensions(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip().lstrip(".").lower() for v in values]
        if any(not v.isalnum() for v in cleaned):
            raise ValueError("extensions must be alphanumeric, like 'jpg'")
        return cleaned

    @model_validator(mode="after")
    def _rules_source(self) -> DirectivesSettings:
        if self.robots_rules and self.robots_file is not None:
            raise ValueError("set robots_rules or robots_file, not both")
        if self.rsl and not self.rsl_base_url:
            raise ValueError(
                "rsl needs rsl_base_url (e.g. https://art.example): robots.txt's License line "
                "must be an absolute URL (RSL 1.0)"
            )
        return self

    def operator_rules(self) -> str:
        """The operator's own robots.txt lines (read from `robots_file` at start-up if given)."""
        if self.robots_file is None:
            return self.robots_rules
        try:
            return self.robots_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError([f"directives.robots_file: cannot read ({exc})"]) from None
