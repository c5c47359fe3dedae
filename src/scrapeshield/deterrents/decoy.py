"""The decoy: a caught client's image request is answered 200 with a degraded image.

The scraper keeps a placeholder (or the operator's downscaled/watermarked version) instead of
the artwork, and sees nothing that says it was caught: the status, content type and directive
headers are those of an image, and there is no header of ours. `Cache-Control: private,
no-store` keeps a shared cache (a CDN) from serving the decoy to everyone else.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from functools import cache
from importlib import resources
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp

from scrapeshield.deterrents.settings import DecoySettings
from scrapeshield.facts import Facts
from scrapeshield.signals import Decision

logger = logging.getLogger("scrapeshield")

CACHE_CONTROL = "private, no-store"
# Extension -> (placeholder file, media type); the first entry is the fallback.
FORMATS = {
    ".png": ("placeholder.png", "image/png"),
    ".jpg": ("placeholder.jpg", "image/jpeg"),
    ".jpeg": ("placeholder.jpg", "image/jpeg"),
    ".gif": ("placeholder.gif", "image/gif"),
    ".webp": ("placeholder.webp", "image/webp"),
    ".avif": ("placeholder.avif", "image/avif"),
}
_BY_ACCEPT = (("image/avif", ".avif"), ("image/webp", ".webp"), ("image/png", ".png"))
_DEFAULT = ".jpg"


@cache
def placeholder(extension: str) -> tuple[bytes, str]:
    """The built-in placeholder in the format an extension names (read once, then cached)."""
    name, media_type = FORMATS.get(extension, FORMATS[_DEFAULT])
    data = resources.files("scrapeshield.deterrents").joinpath("data", name).read_bytes()
    return data, media_type


def extension_for(facts: Facts) -> str:
    """The format to send: the path's extension, else the best the client accepts, else JPEG."""
    extension = posixpath.splitext(facts.path)[1].lower()
    if extension in FORMATS:
        return extension
    accept = facts.header("accept").lower()
    for media_type, candidate in _BY_ACCEPT:
        if media_type in accept:
            return candidate
    return _DEFAULT


def image_response(body: bytes, media_type: str, method: str) -> Response:
    response = Response(b"" if method == "HEAD" else body, 200, media_type=media_type)
    response.headers["cache-control"] = CACHE_CONTROL
    if method == "HEAD":
        response.headers["content-length"] = str(len(body))
    return response


class Decoy:
    """Compiled from settings once; `respond` is the action handler for `decoy` decisions."""

    def __init__(self, settings: DecoySettings) -> None:
        self.route_groups = frozenset(settings.route_groups)
        self.responder = settings.responder

    def applies(self, facts: Facts) -> bool:
        """A decoy is sent on image routes only; a decoy verdict anywhere else is a block."""
        return facts.route_group in self.route_groups

    async def respond(self, decision: Decision, facts: Facts) -> ASGIApp | None:
        if self.responder is not None:
            try:
                found = await self._operator(decision, facts)
            except Exception:
                logger.exception("decoy responder failed; sending the built-in placeholder")
                found = None
            if found is not None:
                return found
        body, media_type = placeholder(extension_for(facts))
        return image_response(body, media_type, facts.method)

    async def _operator(self, decision: Decision, facts: Facts) -> ASGIApp | None:
        assert self.responder is not None  # checked by the caller
        result: Any = self.responder(decision, facts)
        if asyncio.iscoroutine(result):
            result = await result
        if result is None:
            return None
        if isinstance(result, tuple) and len(result) == 2:
            body, media_type = result
            if isinstance(body, bytes | bytearray) and isinstance(media_type, str):
                return image_response(bytes(body), media_type, facts.method)
            raise TypeError("a decoy responder's tuple is (bytes, content_type)")
        if callable(result):
            return result  # type: ignore[no-any-return]
        raise TypeError(f"a decoy responder returned {type(result).__name__}")
