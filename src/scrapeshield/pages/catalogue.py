"""Page texts by language, from TOML catalogues, and the language a request's
`Accept-Language` asks for.

A catalogue is `<language>.toml` (a BCP 47 tag, lower case: `en`, `ja`, `pt-br`) with tables of
texts, e.g. `[block] title = "..."`, read as the key `block.title`. English (`en`) is complete
and is the fallback for every key another catalogue leaves out. An operator's directory adds
languages or replaces single texts of the packaged ones. Texts are plain text (escaped when
rendered) with `{name}` placeholders; a catalogue that uses a placeholder its key does not have,
or a key English does not have, is a configuration error.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

from markupsafe import Markup, escape

FALLBACK = "en"
_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")
_MAX_HEADER = 512  # characters of Accept-Language read; browsers send well under 100
_MAX_RANGES = 16
EVERYWHERE = frozenset({"site"})
"""Placeholders every text may use, whatever its English text has."""


def language_tag(value: str) -> str:
    """A catalogue's language tag (lower case), or ValueError naming what is expected."""
    tag = value.strip().lower()
    if not _TAG.match(tag):
        raise ValueError(f"{value!r} is not a language tag like en, ja or pt-br")
    return tag


def placeholders(text: str) -> set[str]:
    """The `{name}` placeholders of a text; ValueError for anything else in braces."""
    names = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}}} is not a placeholder (write {{name}}, letters only)")
        names.add(name)
    return names


def _flatten(data: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            out[name] = value
        else:
            raise ValueError(f"{name}: expected text, got {type(value).__name__}")
    return out


def _read(text: str, origin: str) -> dict[str, str]:
    try:
        return _flatten(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ValueError(f"{origin}: {exc}") from None


@lru_cache(maxsize=1)
def packaged() -> dict[str, dict[str, str]]:
    """The catalogues shipped with scrapeshield, by language."""
    folder = resources.files("scrapeshield.pages").joinpath("catalogues")
    return {
        entry.name.removesuffix(".toml"): _read(entry.read_text("utf-8"), entry.name)
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def load(directory: str | None) -> dict[str, dict[str, str]]:
    """The packaged catalogues, with an operator's directory merged over them key by key;
    ValueError listing every problem (unknown keys, wrong placeholders, bad files)."""
    catalogues = {lang: dict(texts) for lang, texts in packaged().items()}
    problems: list[str] = []
    if directory is not None:
        folder = Path(directory)
        if not folder.is_dir():
            raise ValueError(f"{directory!r} is not a directory")
        for path in sorted(folder.glob("*.toml")):
            try:
                lang = language_tag(path.stem)
                texts = _read(path.read_text("utf-8"), path.name)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                problems.append(f"{path.name}: {exc}")
                continue
            catalogues.setdefault(lang, {}).update(texts)
    english = catalogues[FALLBACK]
    for lang, texts in sorted(catalogues.items()):
        for key, text in sorted(texts.items()):
            if key not in english:
                problems.append(f"{lang}.toml: unknown key {key!r} (the keys are en.toml's)")
                continue
            try:
                extra = placeholders(text) - placeholders(english[key]) - EVERYWHERE
            except ValueError as exc:
                problems.append(f"{lang}.toml: {key}: {exc}")
                continue
            if extra:
                problems.append(f"{lang}.toml: {key}: unknown placeholder {sorted(extra)}")
    if problems:
        raise ValueError("; ".join(problems))
    return catalogues


class Texts:
    """One language's texts: `texts("block.title", site=...)` gives escaped markup, falling
    back to English for a key the language lacks."""

    def __init__(
        self,
        language: str,
        texts: Mapping[str, str],
        english: Mapping[str, str],
        site: str | None = None,
    ) -> None:
        self.language = language
        self._texts = {**english, **texts}
        self.site = site if site is not None else self._texts["page.default_site"]
        self._done: dict[str, Markup] = {}  # texts with only {site} filled in, made once

    def __call__(self, key: str, /, **values: object) -> Markup:
        if not values and (done := self._done.get(key)) is not None:
            return done
        text = self._texts.get(key)
        if text is None:
            raise KeyError(f"no page text {key!r}")
        # escape() first, then Markup.format escapes every value: nothing reaches the page raw.
        markup = escape(text).format(**{"site": self.site, **values})
        if not values:
            self._done[key] = markup  # bounded: one entry per catalogue key
        return markup

    def plain(self, key: str, /, **values: object) -> str:
        """The text with its values, unescaped (for JSON inside a script)."""
        return self._texts[key].format(**{"site": self.site, **values})


def parse_accept_language(header: str) -> list[str]:
    """The language ranges of an `Accept-Language` value, most wanted first (quality values
    honoured, ties in the order given; `q=0` and malformed entries dropped). Bounded: at most
    the first 512 characters and 16 ranges are read."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:_MAX_HEADER].split(",")[:_MAX_RANGES]):
        tag, _, params = item.partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        if params:
            name, _, value = params.strip().partition("=")
            if name.strip() != "q":
                continue
            try:
                quality = float(value.strip())
            except ValueError:
                continue
            if not 0.0 <= quality <= 1.0:
                continue
        if quality > 0 and tag and (tag == "*" or _TAG.match(tag)):
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(header: str, offered: tuple[str, ...], default: str) -> str:
    """The offered language that best matches `header`: an exact tag, else the range's
    primary language (`ja-JP` finds `ja`), else `default`. `*` means `default`."""
    for wanted in parse_accept_language(header):
        if wanted == "*":
            return default
        if wanted in offered:
            return wanted
        primary = wanted.split("-", 1)[0]
        if primary in offered:
            return primary
    return default
