"""The scripted harvester behind most rows: browser header sets, cookie jars, pacing by the
`RateLimit` field, jitter, id walks, proof-of-work or no-JS solving, and address rotation.

One artwork = (optionally) its page, then its original with the image headers a browser sends
for an <img> on that page. Refusals do not stop it: it moves on to the next artwork, and gives
up after `give_up` refusals in a row (a scraper whose every request fails stops too).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.efficacy import solver
from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.client import Answer, Pacer, RawClient
from benchmarks.efficacy.core import Ledger
from benchmarks.efficacy.headers import HeaderSet
from scrapeshield.demo.art import ARTWORK_COUNT

SEED = 14  # every random choice is seeded: the same run sends the same requests


@dataclass(frozen=True)
class Identity:
    source: str | None = None
    forwarded_for: str | None = None


@dataclass
class _Visitor:
    client: RawClient
    pacer: Pacer
    page: str | None = None
    fresh: bool = True
    forgotten: int = 0


@dataclass
class Harvester(Adversary):
    headers: Callable[[], HeaderSet] = field(default=lambda: None)  # type: ignore[assignment]
    order: str = "random"  # random | ascending | descending
    pages: bool = True
    index_first: bool = True
    assets: bool = True
    pace: bool = True
    jitter: tuple[float, float] | None = None
    padded: bool = False
    solve: str | None = None  # pow | wait | None
    identities: Callable[[], list[Identity]] = field(default=lambda: [Identity()])
    give_up: int = 30
    forget: bool = False  # clear the cookie jar (token and pass) whenever an original is refused

    def run(self, base_url: str, ledger: Ledger) -> None:
        headers = self.headers()
        rng = random.Random(SEED)
        ids = list(range(1, ARTWORK_COUNT + 1))
        if self.order == "random":
            rng.shuffle(ids)
        elif self.order == "descending":
            ids.reverse()
        visitors = [
            _Visitor(RawClient(base_url, ledger, source=i.source, forwarded_for=i.forwarded_for),
                     Pacer(ledger))
            for i in self.identities()
        ]  # fmt: skip
        refused = 0
        outcomes: Counter[str] = Counter()
        try:
            for n, artwork in enumerate(ids):
                if ledger.done() or refused >= self.give_up:
                    break
                visitor = visitors[n % len(visitors)]
                if visitor.fresh:
                    visitor.fresh = False
                    if self.index_first:
                        self._visit(visitor, headers, base_url, "/", ledger)
                    if self.assets:
                        self._assets(visitor, headers, base_url)
                ok = self._artwork(visitor, headers, base_url, artwork, ledger)
                if not ok and self.solve:
                    outcome = self._solve(visitor, headers, base_url, artwork)
                    outcomes[outcome] += 1
                    if outcome != "failed":
                        ok = self._artwork(visitor, headers, base_url, artwork, ledger)
                refused = 0 if ok else refused + 1
                if self.jitter and not ledger.done():
                    time.sleep(min(rng.uniform(*self.jitter), ledger.time_left()))
        finally:
            for visitor in visitors:
                visitor.client.close()
        throttled = sum(v.pacer.throttled for v in visitors)
        if self.pace:
            ledger.notes.append(f"paced by RateLimit; 429s seen: {throttled}")
        if self.solve:
            ledger.notes.append(
                f"challenges solved ({self.solve}): {outcomes['solved']}; refusals lifted by "
                f"just viewing the artwork's page: {outcomes['page-ok']}; failed: "
                f"{outcomes['failed']}"
            )
        if self.forget:
            cleared = sum(v.forgotten for v in visitors)
            ledger.notes.append(f"cookie jars cleared after a refused original: {cleared}")
        if refused >= self.give_up:
            ledger.notes.append(f"gave up after {refused} refusals in a row")

    def _send(
        self, visitor: _Visitor, group: str, path: str, lines: list[tuple[str, str]]
    ) -> Answer | None:
        if self.pace and not visitor.pacer.before(group):
            return None
        answer = visitor.client.get(path, lines)
        visitor.pacer.after(group, answer)
        return answer

    def _visit(
        self, visitor: _Visitor, headers: HeaderSet, base: str, path: str, ledger: Ledger
    ) -> Answer | None:
        answer = self._send(visitor, "page", path, headers.navigation(base, visitor.page))
        if answer is not None and answer.kind == "ok":
            visitor.page = path
        return answer

    def _assets(self, visitor: _Visitor, headers: HeaderSet, base: str) -> None:
        page = visitor.page or "/"
        self._send(visitor, "asset", "/static/gallery.css", headers.style(base, page))
        self._send(visitor, "asset", "/static/gallery.js", headers.script(base, page))

    def _artwork(
        self, visitor: _Visitor, headers: HeaderSet, base: str, artwork: int, ledger: Ledger
    ) -> bool:
        if self.pages:
            page = self._visit(visitor, headers, base, f"/artworks/{artwork}", ledger)
            if page is None or page.kind != "ok":
                return False
        name = f"{artwork:04d}" if self.padded else str(artwork)
        referer = visitor.page or "/"
        answer = self._send(visitor, "image", f"/images/{name}.png", headers.image(base, referer))
        if self.forget and answer is not None and answer.kind in ("decoy", "block"):
            visitor.client.jar.clear()  # a fresh identity: the next challenge buys a new token
            visitor.forgotten += 1
        return answer is not None and answer.kind == "ok"

    def _solve(self, visitor: _Visitor, headers: HeaderSet, base: str, artwork: int) -> str:
        """Open the artwork page as a navigation (images get JSON, not the page), answer the
        challenge, keep the pass cookie: `solved`, `page-ok` (no challenge there) or `failed`."""
        client = visitor.client
        page = client.get(f"/artworks/{artwork}", headers.navigation(base, visitor.page))
        found = solver.parse(page.body)
        if found is None:
            return "page-ok" if page.kind == "ok" else "failed"
        if self.solve == "wait":
            if found.wait_url is None or found.wait_seconds >= client.ledger.time_left():
                return "failed"
            time.sleep(found.wait_seconds + 0.2)
            answer = client.get(found.wait_url, headers.navigation(base, f"/artworks/{artwork}"))
        else:
            body, _, _ = solver.form(found)
            lines = [*headers.navigation(base, f"/artworks/{artwork}")]
            lines += [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", base)]
            answer = client.request("POST", found.action, lines, body)
        return "solved" if answer.status in (302, 303) else "failed"
