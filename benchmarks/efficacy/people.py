"""The simulated person: what a browser sends while someone browses the gallery.

Index page with its CSS, JS and the thumbnails in view; then ~60 artworks, mostly picked from
an index page, sometimes by "next →", sometimes back to the index or another index page; each
artwork page with its CSS and JS (the demo sends no caching headers for them, so a browser asks
again) and its image unless already cached (images are cacheable for a day). Chromium's
recorded headers, a cookie jar, scaled pauses (pauses.py). A challenge is answered the way the
browser would (the same proof of work, in Python here), and counted.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from benchmarks.efficacy import solver
from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.browser import ChromiumPerson
from benchmarks.efficacy.client import RawClient
from benchmarks.efficacy.core import PERSON, Ledger
from benchmarks.efficacy.headers import HeaderSet, chrome
from benchmarks.efficacy.pauses import ARTWORKS, scaled_pause
from scrapeshield.demo.app import PER_PAGE
from scrapeshield.demo.art import ARTWORK_COUNT

IN_VIEW = PER_PAGE
"""Thumbnails an index view loads: all 48, as real Chromium does (its lazy-loading distance
threshold covers the whole grid in a 1280x720 window; seen in chromium-person's requests)."""


@dataclass
class _Browser:
    client: RawClient
    headers: HeaderSet
    base: str
    page: str | None = None
    cached: set[str] = field(default_factory=set)
    solved: int = 0

    def open(self, path: str, images: list[int], folder: str = "images") -> None:
        """Open a page and what it shows: an index its thumbnails (`folder="thumbs"`), an
        artwork page its original."""
        answer = self.client.get(path, self.headers.navigation(self.base, self.page))
        if answer.kind == "challenge" and self.solved == 0:
            self._solve(answer.body)
            answer = self.client.get(path, self.headers.navigation(self.base, self.page))
        if answer.kind != "ok":
            return
        self.page = path
        for asset, build in (("/static/gallery.css", self.headers.style),
                             ("/static/gallery.js", self.headers.script)):  # fmt: skip
            self.client.get(asset, build(self.base, path))
        for artwork in images:
            url = f"/{folder}/{artwork}.png"
            if url in self.cached:
                continue  # cacheable for a day: the browser does not ask again
            if self.client.get(url, self.headers.image(self.base, path)).kind == "ok":
                self.cached.add(url)

    def _solve(self, body: bytes) -> None:
        found = solver.parse(body)
        if found is None:
            return
        self.solved += 1
        data, _, _ = solver.form(found)
        lines = [*self.headers.navigation(self.base, self.page)]
        lines += [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", self.base)]
        self.client.request("POST", found.action, lines, data)


def index_ids(page: int) -> list[int]:
    first = (page - 1) * PER_PAGE + 1
    return list(range(first, min(first + PER_PAGE, ARTWORK_COUNT + 1)))


@dataclass
class SimulatedPerson(Adversary):
    def run(self, base_url: str, ledger: Ledger) -> None:
        rng = random.Random(60)
        browser = _Browser(RawClient(base_url, ledger), chrome(), base_url)
        index_page = 1
        browser.open("/", index_ids(1)[:IN_VIEW], "thumbs")
        current: int | None = None
        seen = 0
        try:
            while seen < ARTWORKS and not ledger.done():
                time.sleep(min(scaled_pause(rng, ledger.budget.seconds), ledger.time_left()))
                roll = rng.random()
                if current is not None and current < ARTWORK_COUNT and roll < 0.25:
                    current += 1  # "next →"
                elif current is not None and roll < 0.40:
                    index_page = rng.randrange(1, 1 + (ARTWORK_COUNT + PER_PAGE - 1) // PER_PAGE)
                    path = "/" if index_page == 1 else f"/?page={index_page}"
                    browser.open(path, index_ids(index_page)[:IN_VIEW], "thumbs")
                    continue
                else:
                    current = rng.choice(index_ids(index_page))
                browser.open(f"/artworks/{current}", [current])
                seen += 1
        finally:
            browser.client.close()
        ledger.notes.append(f"artwork pages viewed: {seen}; challenges answered: {browser.solved}")


def adversaries() -> list[Adversary]:
    return [
        SimulatedPerson("person", "person", PERSON,
                        f"browses like a person: index, {ARTWORKS} artworks (picked, next →, "
                        "back to an index), each page's CSS/JS/image, Chromium headers, cookie "
                        "jar, scaled pauses", slow=True),
        ChromiumPerson("chromium-person", "person", PERSON,
                       f"real Chromium (Playwright) clicking through {ARTWORKS} artworks with "
                       "scaled pauses", browser=True, slow=True),
    ]  # fmt: skip
