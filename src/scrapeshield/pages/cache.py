"""Packaged pages rendered once per language and fixed values, filled in per request.

A refusal must stay cheap when a flood of clients is refused: rendering a Jinja2 page costs
tens of microseconds, a cached one with its request id put in costs a few. The page is rendered
with a marker where each per-request value goes (request id, contact link, the challenge's
token, nonce, config and wait link); a request joins the pieces with its values, escaped as
the template would have escaped them. Only the packaged templates are cached: they use those
values only as `{{ value }}` and in `{% if value %}` (a value that is None is part of the key,
not a marker). An operator's templates may use them any way, so they are rendered each time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import escape

VARYING = ("request_id", "contact_url", "nonce", "token", "config", "wait_url", "retry_url")
"""The context values that differ from one request to the next."""
_MARK = "\x00"  # never in an escaped value or a packaged template; split on it
_MAX_ENTRIES = 512  # languages x pages x statuses x retry_after values seen; then start over

Pieces = tuple[tuple[str, str], ...]  # (literal text, the varying value that follows)


class PageCache:
    def __init__(self, render: Callable[[str, Mapping[str, Any]], str]) -> None:
        self._render = render
        self._pages: dict[tuple[Any, ...], Pieces] = {}

    def __call__(self, name: str, context: Mapping[str, Any]) -> str:
        varying = {k: v for k in VARYING if (v := context.get(k)) is not None}
        # Everything else, in the context's order (each page has one caller, one order).
        key = (name, *((k, v) for k, v in context.items() if k not in varying and k != "t"))
        pieces = self._pages.get(key)
        if pieces is None:
            pieces = self._pieces(name, context, varying)
            if len(self._pages) >= _MAX_ENTRIES:
                self._pages.clear()
            self._pages[key] = pieces
        # str(): a str plus Markup would escape the str (Markup.__radd__).
        return "".join([text + str(escape(varying[n])) if n else text for text, n in pieces])

    def _pieces(self, name: str, context: Mapping[str, Any], varying: Mapping[str, Any]) -> Pieces:
        marked = {**context, **{k: f"{_MARK}{k}{_MARK}" for k in varying}}
        parts = self._render(name, marked).split(_MARK)
        # parts: text, name, text, name, ..., text
        texts, names = parts[0::2], [*parts[1::2], ""]
        return tuple(zip(texts, names, strict=True))
