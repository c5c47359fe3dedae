"""Clients for the identity tests: a simulated person and the cheapest scrapers that copy one.

Everything goes over real HTTP to the demo gallery on a real uvicorn (tests.servers).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from scrapeshield.demo.app import create_app
from scrapeshield.demo.art import png
from scrapeshield.settings import Settings
from tests.browsers import chrome, chrome_asset, chrome_image
from tests.challenge.helpers import parse_page, solve
from tests.servers import UvicornThread, serve

KEY = "identity-test-key-0123456789"


def demo_settings(**overrides: Any) -> Settings:
    """The demo's own settings (defaults otherwise), with a shared key and an easy PoW so a
    person can answer a challenge quickly in Python."""
    options: dict[str, Any] = {
        "site_name": "Demo Art Gallery",
        "terms_url": "/terms",
        "directives": {"trap_paths": ["/artworks/archive-all"]},
        "challenge": {"secret_keys": [KEY], "difficulty": 8, "max_difficulty": 10},
    }
    options.update(overrides)
    return Settings(**options)


@contextlib.contextmanager
def demo(settings: Settings | None = None, loop: str = "asyncio") -> Iterator[UvicornThread]:
    with serve(create_app(settings or demo_settings()), loop=loop) as server:
        yield server


def image_headers(referer: str) -> dict[str, str]:
    """What Chrome sends for an <img> on a page, in Chromium's order."""
    return chrome_image(referer)


def asset_headers(referer: str, dest: str) -> dict[str, str]:
    """What Chrome sends for a page's stylesheet or script, in Chromium's order."""
    return chrome_asset(referer, dest)


@dataclass
class Tally:
    """What one client got: originals (distinct ids answered 200), and every other answer."""

    originals: set[int] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)
    challenges: int = 0
    solved: int = 0
    decoys: int = 0  # an image answered 200 with other bytes than the artwork's own

    @property
    def refused(self) -> int:
        return sum(1 for s in self.statuses if s in (403, 429))


class Browser:
    """A client that sends what Chrome sends (navigation, CSS/JS, images with the page as
    Referer) and keeps its cookies; `solve_once`/`solve_always`: answer challenge pages."""

    def __init__(
        self,
        base: str,
        *,
        source: str | None = None,
        forwarded_for: str | None = None,
        solve_challenges: int = 0,
        keep_cookies: bool = True,
    ) -> None:
        transport = httpx.HTTPTransport(local_address=source) if source else None
        self.client = httpx.Client(base_url=base, transport=transport, timeout=10)
        self.base = base
        self.extra = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        self.solve_left = solve_challenges
        self.keep_cookies = keep_cookies
        self.tally = Tally()
        self.page: str | None = None

    def close(self) -> None:
        self.client.close()

    def _get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        if not self.keep_cookies:
            self.client.cookies.clear()
        response = self.client.get(path, headers={**headers, **self.extra})
        self.tally.statuses.append(response.status_code)
        return response

    def open(self, path: str, *, assets: bool = True) -> bool:
        """A navigation; on a challenge page, solve it if allowed and open the page again."""
        headers = chrome()
        if self.page is not None:
            headers |= {"Sec-Fetch-Site": "same-origin", "Referer": self.base + self.page}
        response = self._get(path, headers)
        if response.status_code == 403 and 'id="ss-form"' in response.text:
            self.tally.challenges += 1
            self.tally.statuses.pop()  # a challenge, not a refusal: counted on its own
            if self.solve_left <= 0:
                return False
            self.solve_left -= 1
            page = parse_page(response.text)
            answer = self.client.post(
                page.action, data=solve(page), headers={**headers, **self.extra}
            )
            self.tally.solved += 1
            if answer.status_code != 303:
                return False
            response = self._get(path, headers)
        if response.status_code != 200:
            return False
        self.page = path
        if assets:
            self._get("/static/gallery.css", asset_headers(self.base + path, "style"))
            self._get("/static/gallery.js", asset_headers(self.base + path, "script"))
        return True

    def image(self, artwork: int) -> int:
        referer = self.base + (self.page or f"/artworks/{artwork}")
        response = self._get(f"/images/{artwork}.png", image_headers(referer))
        if response.status_code == 200 and response.content == png(artwork):
            self.tally.originals.add(artwork)
        elif response.status_code == 200:
            self.tally.decoys += 1
        return response.status_code

    def view(self, artwork: int, *, assets: bool = True) -> None:
        """An artwork page, then its image (as the page's <img>)."""
        if self.open(f"/artworks/{artwork}", assets=assets):
            self.image(artwork)


def person(base: str, artworks: int = 60, seed: int = 60, pause: float = 0.2) -> Tally:
    """Index, then artworks picked from it or by "next", each page with its CSS, JS and image,
    with pauses; answers at most one challenge, as a person would."""
    rng = random.Random(seed)
    browser = Browser(base, solve_challenges=1)
    try:
        browser.open("/")
        current = rng.randrange(1, 49)
        for _ in range(artworks):
            time.sleep(pause)
            browser.view(current)
            current = current + 1 if rng.random() < 0.3 else rng.randrange(1, 301)
    finally:
        browser.close()
    return browser.tally
