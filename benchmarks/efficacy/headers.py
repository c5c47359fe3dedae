"""Browser header sets as data: Chromium's recorded here (data/chromium-headers.json, see
record_headers.py), Firefox's from a published capture (data/firefox-headers.json names it).

Each set gives the headers of one kind of request in the browser's order, without Host and
Cookie (the client adds those); Referer values are rewritten to this server's pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
_DROP = {"host", "cookie"}


@dataclass(frozen=True)
class HeaderSet:
    family: str
    source: str
    kinds: dict[str, tuple[tuple[str, str], ...]]

    def _build(self, kind: str, base: str, referer: str | None) -> list[tuple[str, str]]:
        out = []
        for name, value in self.kinds[kind]:
            if name.lower() == "referer":
                if referer is None:
                    continue
                value = base + referer
            out.append((name, value))
        return out

    def navigation(self, base: str, referer: str | None = None) -> list[tuple[str, str]]:
        """A top-level page load: typed (no referer) or a click on this site's link."""
        if referer is None:
            return self._build("navigation", base, None)
        return self._build("navigation-same-origin", base, referer)

    def image(self, base: str, referer: str) -> list[tuple[str, str]]:
        """An <img> on this site's page `referer`."""
        return self._build("image-same-origin-cookie", base, referer)

    def style(self, base: str, referer: str) -> list[tuple[str, str]]:
        return self._build("style", base, referer)

    def script(self, base: str, referer: str) -> list[tuple[str, str]]:
        return self._build("script", base, referer)

    @property
    def user_agent(self) -> str:
        return next(v for n, v in self.kinds["navigation"] if n.lower() == "user-agent")


def _load(name: str, family: str) -> HeaderSet:
    data = json.loads((DATA / name).read_text("utf-8"))
    kinds = {}
    for item in data["requests"]:
        kind = item["kind"]
        if kind in kinds:
            continue
        kinds[kind] = tuple((n, v) for n, v in item["headers"] if n.lower() not in _DROP)
    return HeaderSet(family, data.get("source") or data["how"], kinds)


@cache
def chrome() -> HeaderSet:
    return _load("chromium-headers.json", "chrome")


@cache
def firefox() -> HeaderSet:
    return _load("firefox-headers.json", "firefox")


GO_HTTP_CLIENT = [("User-Agent", "Go-http-client/1.1"), ("Accept-Encoding", "gzip")]
"""What Go's net/http sends by default (Host, User-Agent, Accept-Encoding: gzip), in order."""
