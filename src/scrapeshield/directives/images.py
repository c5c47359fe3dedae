"""Rights metadata embedded in served images, as the body streams (`image_metadata = true`).

`ImageMetadata` is a ResponseFilter: for a 200 PNG or JPEG of a configured route group (the
originals, `images`), never a decoy, it offers an `ImageRewriter` that holds the response start,
buffers the body only up to the file's image data (bounded by `image_max_lookahead`), inserts or
merges the XMP packet (directives/imagefile.py, imagewebp.py, xmp.py), fixes `Content-Length`
and suffixes the ETag, then streams every later byte untouched (WebP: its XMP chunk goes after
the last one). Anything it cannot parse passes
through unchanged.

Requests: `Range`/`If-Range` are removed for those routes (byte offsets into the app's file would
not match the file we send; responses say `Accept-Ranges: none`), and our ETag suffix is taken
off `If-None-Match` so the app can still answer 304, whose ETag gets the suffix back.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import lru_cache, partial
from typing import Any

from starlette.types import Message, Scope, Send

from scrapeshield.directives.base import Headers
from scrapeshield.directives.headers import header_value
from scrapeshield.directives.imagefile import MORE, PASS, PLANNERS, Edit
from scrapeshield.directives.imagewebp import plan_webp
from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.settings import DirectivesSettings, Preferences
from scrapeshield.directives.xmp import RightsFields, data_mining_uri, merge_xmp, xmp_packet
from scrapeshield.facts import Facts
from scrapeshield.signals import Action, Decision

logger = logging.getLogger("scrapeshield")

_DROPPED_REQUEST = (b"range", b"if-range")
_MAX_CACHED_FIELDS = 256
_MAX_CACHED_PACKET = 16 * 1024  # 128 remembered merges (packet in, packet out): 4 MiB at most


def rights_fields(
    prefs: Preferences, settings: DirectivesSettings, terms_url: str | None = None
) -> RightsFields:
    """The XMP values for these preferences (the artist hook's, a path's or the site's)."""
    default = "DMI-ALLOWED" if prefs.train_ai else "DMI-PROHIBITED-AIMLTRAINING"
    return RightsFields(
        data_mining=data_mining_uri(prefs.data_mining or default),
        tdm_reservation=0 if prefs.train_ai else 1,
        tdm_policy=None if prefs.train_ai else settings.tdm_policy_url,
        web_statement=prefs.web_statement or settings.web_statement_url or terms_url,
        rights=prefs.rights,
        credit=prefs.credit,
    )


def suffixed(etag: bytes, tag: str) -> bytes:
    """`"abc"` -> `"abc-xmp…"` (weak stays weak): the bytes differ from the app's file."""
    if not etag.endswith(b'"') or b'"' not in etag[:-1]:
        return etag
    return etag[:-1] + b"-" + tag.encode() + b'"'


def _headers(start: Message, tag: str, delta: int | None) -> Message:
    """The start with the ETag suffixed, Content-Length moved by `delta` (None: removed) and
    `Accept-Ranges: none`."""
    out: Headers = []
    for name, value in start.get("headers", []):
        lower = name.lower()
        if lower == b"content-length":
            if delta is None:
                continue
            try:
                value = str(int(value) + delta).encode()
            except ValueError:
                continue
        elif lower == b"etag":
            value = suffixed(value, tag)
        elif lower == b"accept-ranges":
            continue
        out.append((name, value))
    out.append((b"accept-ranges", b"none"))
    return {**start, "headers": out}


@lru_cache(maxsize=128)
def _merged(existing: bytes, fields: RightsFields) -> bytes | None:
    """`merge_xmp`, remembered: parsing a packet costs ~50 us, a served image repeats."""
    return merge_xmp(existing, fields)


class ImageRewriter:
    """One image response: hold the start, buffer the file's header, insert XMP, release."""

    def __init__(self, planner: Any, fields: RightsFields, lookahead: int) -> None:
        self.planner = planner
        self.fields = fields
        self.tag = fields.tag()
        self.lookahead = lookahead
        self.start_message: Message | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.tail = b""  # still to append after the last body byte
        self.done = False

    def build(self, existing: bytes | None) -> bytes | None:
        if existing is None:
            return xmp_packet(self.fields)
        if len(existing) <= _MAX_CACHED_PACKET:  # the same file served again: merged once
            return _merged(existing, self.fields)
        return merge_xmp(existing, self.fields)

    async def start(self, message: Message, send: Send) -> None:
        self.start_message = message

    async def body(self, message: Message, send: Send) -> None:
        if self.done:
            if (
                self.tail
                and message["type"] == "http.response.body"
                and not message.get("more_body", False)
            ):
                message = {**message, "body": message.get("body", b"") + self.tail}
                self.tail = b""
            await send(message)
            return
        if message["type"] != "http.response.body":  # pathsend, zerocopysend: pass untouched
            held = b"".join(self.chunks)
            await self._release(send, None)
            if held:
                await send({"type": "http.response.body", "body": held, "more_body": True})
            await send(message)
            return
        chunk = message.get("body", b"")
        if chunk:
            self.chunks.append(chunk)
            self.size += len(chunk)
        more = bool(message.get("more_body", False))
        # One chunk (the usual whole-file response) is read in place: no copy of the image.
        data = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        self.chunks = [data] if data else []
        try:
            plan = self.planner(memoryview(data)[: self.lookahead], self.build)
        except Exception:  # a parser bug must not break the image
            logger.exception("scrapeshield could not read an image's header; sent untouched")
            plan = PASS
        if plan == MORE and more and self.size < self.lookahead:
            return
        edit = plan if isinstance(plan, Edit) else None
        if edit is not None:
            pieces: list[bytes | memoryview] = [edit.head, memoryview(data)[edit.consumed :]]
            if more:
                self.tail = edit.tail  # sent with the last body message
            else:
                pieces.append(edit.tail)
            data = b"".join(pieces)
        await self._release(send, edit)
        await send({"type": "http.response.body", "body": data, "more_body": more})

    async def _release(self, send: Send, edit: Edit | None) -> None:
        self.done = True
        self.chunks = []
        start = self.start_message
        assert start is not None  # the ASGI contract: start always precedes the body
        if edit is not None:
            start = _headers(start, self.tag, len(edit.head) - edit.consumed + len(edit.tail))
        await send(start)


class HeadersOnly:
    """HEAD and 304: no body to edit; the ETag and ranges say what a GET would send (the
    Content-Length of a HEAD is unknown without the file, so it is removed)."""

    def __init__(self, tag: str, keep_length: bool) -> None:
        self.tag = tag
        self.keep_length = keep_length

    async def start(self, message: Message, send: Send) -> None:
        await send(_headers(message, self.tag, 0 if self.keep_length else None))

    async def body(self, message: Message, send: Send) -> None:
        await send(message)


def _content_length(headers: Headers) -> int | None:
    value = header_value(headers, b"content-length")
    try:
        return int(value) if value is not None and "," not in value else None
    except ValueError:
        return None


class ImageMetadata:
    """The ResponseFilter embedding rights metadata in original images (see module doc)."""

    def __init__(
        self,
        settings: DirectivesSettings,
        preferences: PreferenceResolver | None = None,
        *,
        terms_url: str | None = None,
    ) -> None:
        self.settings = settings
        self.preferences = preferences if preferences is not None else PreferenceResolver(settings)
        self.terms_url = terms_url
        self.groups = frozenset(settings.image_metadata_groups)
        self._fields: dict[tuple[Preferences, str, str], RightsFields] = {}

    def applies(self, facts: Facts) -> bool:
        return facts.route_group in self.groups and facts.method in ("GET", "HEAD")

    def headers_for(
        self, facts: Facts, decision: Decision, status: int, headers: Headers
    ) -> Headers:
        return []

    async def fields(self, facts: Facts) -> RightsFields:
        prefs = await self.preferences.for_request(facts)
        key = (prefs, facts.scheme, facts.host)
        fields = self._fields.get(key)
        if fields is not None:
            return fields
        fields = rights_fields(prefs, self.settings, self.terms_url)
        if fields.web_statement and fields.web_statement.startswith("/"):
            # A relative terms URL (`terms_url = "/terms"`) means this site: a saved file
            # needs the absolute one.
            absolute = f"{facts.scheme}://{facts.host}{fields.web_statement}"
            fields = dataclasses.replace(fields, web_statement=absolute)
        if len(self._fields) >= _MAX_CACHED_FIELDS:  # hosts come from clients: stay bounded
            self._fields.clear()
        self._fields[key] = fields
        return fields

    async def request_scope(self, facts: Facts, scope: Scope) -> Scope:
        """The app's scope without Range/If-Range, and If-None-Match without our suffix."""
        if not self.applies(facts):
            return scope
        tag = b""
        if facts.header("if-none-match"):  # (the hook runs only when there is a tag to match)
            tag = b"-" + (await self.fields(facts)).tag().encode() + b'"'
        headers = []
        for name, value in scope.get("headers", []):
            lower = name.lower()
            if lower in _DROPPED_REQUEST:
                continue
            if lower == b"if-none-match" and tag:
                value = value.replace(tag, b'"')
            headers.append((name, value))
        return {**scope, "headers": headers}

    async def body_rewriter(
        self, facts: Facts, decision: Decision, status: int, headers: Headers
    ) -> ImageRewriter | HeadersOnly | None:
        if decision.action is Action.DECOY or not self.applies(facts):
            return None
        if status not in (200, 304):
            return None  # errors, redirects, and a 206 the app sent anyway: untouched
        media = (header_value(headers, b"content-type") or "").split(";", 1)[0].strip().lower()
        planner: Any = PLANNERS.get(media)
        if media == "image/webp":
            planner = partial(plan_webp, length=_content_length(headers))
        encoding = (header_value(headers, b"content-encoding") or "identity").strip().lower()
        if encoding not in ("", "identity") or (planner is None and status != 304):
            return None  # a 304 need not name its type; the route group says it is an image
        fields = await self.fields(facts)
        if planner is None or status == 304 or facts.method == "HEAD":
            return HeadersOnly(fields.tag(), keep_length=status == 304)
        return ImageRewriter(planner, fields, self.settings.image_max_lookahead)
