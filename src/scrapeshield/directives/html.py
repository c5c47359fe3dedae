"""HTML: a `<meta>` snippet for templates, and an opt-in streaming injector for the rest.

`meta_tags()` is a plain function returning markup, so it works as a Jinja2 global
(`env.globals["scrapeshield_meta"] = meta_tags`) or in any other template engine; it returns a
`str` subclass with `__html__` so Jinja2's autoescape leaves it alone, without importing Jinja2.

`HtmlInjector` rewrites 2xx `text/html` bodies that are not compressed: it holds the response
start, buffers until the `<head>` tag has been seen (across any chunk boundary, up to
`inject_max_lookahead` bytes), inserts the tags after it and fixes `Content-Length`. Without a
`<head>` tag in the look-ahead it sends the body unchanged.
"""

from __future__ import annotations

import html
import re

from starlette.types import Message, Send

from scrapeshield.directives.base import Headers
from scrapeshield.directives.headers import MediaTypes, header_value, wants_directives
from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.rsl import RSL_MEDIA_TYPE, license_url
from scrapeshield.directives.settings import DirectivesSettings, Preferences
from scrapeshield.facts import Facts
from scrapeshield.signals import Decision

_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)


class Markup(str):
    """Markup that template engines with autoescape (Jinja2, MarkupSafe) will not escape."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def meta_tags(
    preferences: Preferences | None = None,
    *,
    tdm_policy_url: str | None = None,
    license_url: str | None = None,
) -> Markup:
    """The `<meta>` tags for these preferences (defaults: no AI training), and the RSL licence
    `<link rel="license">` when `license_url` is given."""
    prefs = preferences if preferences is not None else Preferences()
    licence = ""
    if license_url:
        href = html.escape(license_url)
        licence = f'<link rel="license" type="{RSL_MEDIA_TYPE}" href="{href}">'
    if prefs.train_ai:
        return Markup('<meta name="tdm-reservation" content="0">' + licence)
    tags = [
        '<meta name="robots" content="noai, noimageai">',
        '<meta name="tdm-reservation" content="1">',
    ]
    if tdm_policy_url:
        tags.append(f'<meta name="tdm-policy" content="{html.escape(tdm_policy_url)}">')
    return Markup("".join(tags) + licence)


class HtmlRewriter:
    """One response's injection: hold the start, buffer to `<head>`, insert, release."""

    def __init__(self, snippet: bytes, lookahead: int) -> None:
        self.snippet = snippet
        self.lookahead = lookahead
        self.start_message: Message | None = None
        self.buffer = bytearray()
        self.done = False

    async def start(self, message: Message, send: Send) -> None:
        self.start_message = message

    async def body(self, message: Message, send: Send) -> None:
        if self.done:
            await send(message)
            return
        if message["type"] != "http.response.body":  # pathsend, zerocopysend: pass untouched
            held = bytes(self.buffer)
            await self._release(send, injected=False)
            if held:
                await send({"type": "http.response.body", "body": held, "more_body": True})
            await send(message)
            return
        self.buffer += message.get("body", b"")
        more = bool(message.get("more_body", False))
        match = _HEAD.search(self.buffer)
        if match is None and more and len(self.buffer) < self.lookahead:
            return
        data = bytes(self.buffer)
        if match is not None:
            data = data[: match.end()] + self.snippet + data[match.end() :]
        await self._release(send, injected=match is not None)
        await send({"type": "http.response.body", "body": data, "more_body": more})

    async def _release(self, send: Send, *, injected: bool) -> None:
        self.done = True
        self.buffer = bytearray()
        start = self.start_message
        assert start is not None  # the ASGI contract: start always precedes the body
        if injected:
            headers = []
            for name, value in start.get("headers", []):
                if name.lower() == b"content-length":
                    try:
                        value = str(int(value) + len(self.snippet)).encode()
                    except ValueError:
                        continue
                headers.append((name, value))
            start = {**start, "headers": headers}
        await send(start)


class HtmlInjector:
    """The ResponseFilter that offers an `HtmlRewriter` for uncompressed 2xx HTML."""

    def __init__(
        self, settings: DirectivesSettings, preferences: PreferenceResolver | None = None
    ) -> None:
        self.settings = settings
        self.preferences = preferences if preferences is not None else PreferenceResolver(settings)
        self.media = MediaTypes(["text/html"])

    def headers_for(
        self, facts: Facts, decision: Decision, status: int, headers: Headers
    ) -> Headers:
        return []

    async def body_rewriter(
        self, facts: Facts, decision: Decision, status: int, headers: Headers
    ) -> HtmlRewriter | None:
        if facts.method == "HEAD" or not wants_directives(status, headers, self.media):
            return None
        encoding = (header_value(headers, b"content-encoding") or "identity").strip().lower()
        if encoding not in ("", "identity"):
            return None
        prefs = await self.preferences.for_request(facts)
        snippet = meta_tags(
            prefs,
            tdm_policy_url=self.settings.tdm_policy_url,
            license_url=license_url(self.settings),
        )
        return HtmlRewriter(snippet.encode("utf-8"), self.settings.inject_max_lookahead)
