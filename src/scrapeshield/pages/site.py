"""`Pages`: compiled from settings once; renders a page in the language the request asks for.

pages = Pages(settings.pages, site_name=settings.site_name, terms_url=settings.terms_url)
response = pages.response("block.html", facts, request_id, 403, headers)
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from typing import Any

from starlette.responses import HTMLResponse

from scrapeshield.facts import Facts
from scrapeshield.pages import catalogue
from scrapeshield.pages.cache import PageCache
from scrapeshield.pages.render import environment, render
from scrapeshield.pages.settings import PagesSettings

SCRIPT_TEXTS = ("working", "halfway", "done", "unsupported", "error")
"""The challenge texts its script shows (catalogue keys `challenge.<name>`)."""
DEFAULT_SITE_NAME = "this site"
"""`Settings.site_name`'s default: then the page says "this site" in its own language."""


class Pages:
    def __init__(
        self, config: PagesSettings, *, site_name: str, terms_url: str | None = None
    ) -> None:
        catalogues = catalogue.load(config.catalogue_dir)
        offered = tuple(config.languages or sorted(catalogues))
        english = catalogues[catalogue.FALLBACK]
        self.default_language = config.default_language
        self.languages = offered
        own_name = None if site_name == DEFAULT_SITE_NAME else site_name
        self._texts = {
            lang: catalogue.Texts(lang, catalogues[lang], english, own_name)
            for lang in {*offered, config.default_language}
        }
        self._script_texts = {
            lang: {key: texts.plain(f"challenge.{key}") for key in SCRIPT_TEXTS}
            for lang, texts in self._texts.items()
        }
        # Bounded: a flood of distinct Accept-Language values only churns 256 entries.
        self._negotiate = lru_cache(maxsize=256)(
            partial(catalogue.negotiate, offered=offered, default=config.default_language)
        )
        self.env = environment(config.template_dir)
        self._render: Callable[[str, Mapping[str, Any]], str] = partial(render, self.env)
        if config.template_dir is None:  # only the packaged templates are cached (cache.py)
            self._render = PageCache(self._render)
        self.terms_url = terms_url
        self.contact_url = config.contact_url
        self.logo_url = config.logo_url

    def language(self, facts: Facts) -> str:
        """The offered language `Accept-Language` prefers, else the default."""
        return str(self._negotiate(facts.header("accept-language")))

    def texts(self, language: str) -> catalogue.Texts:
        return self._texts[language]

    def script_texts(self, language: str) -> dict[str, str]:
        """What the challenge's script says as it works, in `language` (made once)."""
        return self._script_texts[language]

    def context(self, language: str, request_id: str, status: int) -> dict[str, Any]:
        """What every page is rendered with (docs/pages.md lists it)."""
        texts = self._texts[language]
        contact = self.contact_url
        if contact is not None and "{request_id}" in contact:
            contact = contact.replace("{request_id}", urllib.parse.quote(request_id, safe=""))
        return {
            "lang": language,
            "t": texts,
            "status": status,
            "site_name": texts.site,
            "terms_url": self.terms_url,
            "contact_url": contact,
            "logo_url": self.logo_url,
            "request_id": request_id,
        }

    def response(
        self,
        name: str,
        facts: Facts,
        request_id: str,
        status: int,
        headers: Mapping[str, str],
        *,
        language: str | None = None,
        **values: Any,
    ) -> HTMLResponse:
        """The page `name` (e.g. `block.html`) as a response, with `Content-Language`."""
        lang = language or self.language(facts)
        context = self.context(lang, request_id, status)
        context.update(page=name.removesuffix(".html"), **values)
        context.setdefault("nonce", None)
        headers = {**headers, "Content-Language": lang, "Vary": "Accept, Accept-Language"}
        return HTMLResponse(self._render(name, context), status, headers)
