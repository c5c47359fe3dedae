"""Real Chromium (Debian's, driven by Playwright): a headless harvester that solves the
challenge by itself and paces by `RateLimit`, and a person clicking through the gallery.

Every response the browser receives goes into the ledger (images with their bytes). The person
runs headless with the User-Agent a headed Chromium sends ("HeadlessChrome" → "Chrome"): the
recordings in data/ show that this is the only header a headed and a headless Chromium 156
differ in, so on the wire it is the headed browser a person uses.
"""

from __future__ import annotations

import contextlib
import random
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.browsers import CHROMIUM, CHROMIUM_ARGS

from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.client import Answer, Pacer
from benchmarks.efficacy.core import BROWSERLIKE, Ledger
from benchmarks.efficacy.harvest import SEED
from benchmarks.efficacy.pauses import ARTWORKS, scaled_pause
from scrapeshield.demo.art import ARTWORK_COUNT

GIVE_UP = 30
"""Artworks in a row whose original did not arrive (refused, a decoy) before the harvester
stops, as the scripted harvester gives up after 30 refusals in a row."""


class _Recorder:
    """Puts every response the browser finished loading into the ledger, with its bytes read
    at once (Chromium drops bodies of pages navigated away from); a request the browser gave
    up on is counted as sent."""

    def __init__(self, ledger: Ledger, pacer: Pacer) -> None:
        self.ledger, self.pacer = ledger, pacer

    def on_finished(self, request: Any) -> None:
        response = request.response()
        if response is None:
            return
        self._record(response)

    def on_failed(self, request: Any) -> None:
        response = request.response()
        if response is not None:
            self._record(response)

    def _record(self, response: Any) -> None:
        path = urllib.parse.urlsplit(response.url).path
        body: bytes | None
        try:
            body = response.body()
        except Exception:  # a redirect, or a body the browser dropped
            body = None
        headers = {k.lower(): v for k, v in response.headers.items()}
        kind = self.ledger.record(path, response.status, body, headers)
        group = "image" if path.startswith("/images/") else "page"
        self.pacer.after(group, Answer(response.status, headers, body or b"", kind))

    def attach(self, page: Any) -> None:
        page.on("requestfinished", self.on_finished)
        page.on("requestfailed", self.on_failed)


@contextlib.contextmanager
def chromium(user_agent_fix: bool) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            options: dict[str, Any] = {}
            if user_agent_fix:
                probe = browser.new_page()
                agent = probe.evaluate("navigator.userAgent")
                probe.close()
                options["user_agent"] = agent.replace("HeadlessChrome", "Chrome")
            context = browser.new_context(**options)
            yield context
            context.close()
        finally:
            browser.close()


def _unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


def _shown(page: Any, timeout: float) -> bool:
    """Wait for the real page (a challenge solves itself, posts and redirects first)."""
    try:
        page.wait_for_selector("header", timeout=max(1.0, timeout) * 1000)
        page.wait_for_load_state("load", timeout=max(1.0, timeout) * 1000)
    except Exception:
        return False
    return True


@dataclass
class HeadlessHarvester(Adversary):
    """Visits every artwork page in random order, so the browser itself loads each original;
    gives up after `GIVE_UP` artworks in a row without their original."""

    user_agent_fix: bool = False

    def unavailable(self) -> str | None:
        return _unavailable()

    def run(self, base_url: str, ledger: Ledger) -> None:
        pacer = Pacer(ledger)
        recorder = _Recorder(ledger, pacer)
        ids = list(range(1, ARTWORK_COUNT + 1))
        random.Random(SEED).shuffle(ids)
        with chromium(self.user_agent_fix) as context:
            page = context.new_page()
            recorder.attach(page)
            page.goto(f"{base_url}/", wait_until="commit")
            _shown(page, min(30.0, ledger.time_left()))
            refused = 0
            for artwork in ids:
                if ledger.done() or not (pacer.before("page") and pacer.before("image")):
                    break
                if refused >= GIVE_UP:
                    ledger.notes.append(f"gave up after {refused} artworks in a row without "
                                        "their original")  # fmt: skip
                    break
                before = len(ledger.originals)
                image = f"/images/{artwork}.png"
                try:
                    wait = min(30.0, ledger.time_left()) * 1000
                    with page.expect_response(
                        lambda r, i=image: r.url.endswith(i), timeout=wait
                    ) as got:
                        page.goto(f"{base_url}/artworks/{artwork}", wait_until="commit")
                    _shown(page, min(30.0, ledger.time_left()))
                    ledger.confirm(image, got.value.body())  # if the handler lost the body
                except Exception:  # no image (refused page), or its body was dropped too
                    _shown(page, min(30.0, ledger.time_left()))
                refused = 0 if len(ledger.originals) > before else refused + 1
            agent = page.evaluate("navigator.userAgent")
        ledger.notes.append(f"User-Agent: {agent}; 429s seen: {pacer.throttled}")


@dataclass
class ChromiumPerson(Adversary):
    """Clicks links like a person: an artwork from the index, "next →", back to the index."""

    def unavailable(self) -> str | None:
        return _unavailable()

    def run(self, base_url: str, ledger: Ledger) -> None:
        rng = random.Random(61)
        recorder = _Recorder(ledger, Pacer(ledger))
        seen = 0
        with chromium(user_agent_fix=True) as context:
            page = context.new_page()
            recorder.attach(page)
            page.goto(f"{base_url}/", wait_until="commit")
            _shown(page, 30.0)
            while seen < ARTWORKS and not ledger.done():
                time.sleep(min(scaled_pause(rng, ledger.budget.seconds), ledger.time_left()))
                roll = rng.random()
                on_artwork = "/artworks/" in page.url
                try:
                    if on_artwork and roll < 0.25 and page.locator("text=next →").count():
                        page.click("text=next →")
                    elif on_artwork and roll < 0.40:
                        page.go_back()
                        _shown(page, 30.0)
                        continue
                    else:
                        links = page.locator("main a[href^='/artworks/']")
                        count = links.count()
                        if count == 0:
                            page.goto(f"{base_url}/", wait_until="commit")
                            _shown(page, 30.0)
                            continue
                        links.nth(rng.randrange(count)).click()
                    _shown(page, 30.0)
                    seen += 1
                except Exception as exc:
                    ledger.notes.append(f"browser step failed: {type(exc).__name__}")
        ledger.notes.append(f"artwork pages viewed: {seen}")


def headless() -> list[Adversary]:
    threat = "headless browser"
    return [
        HeadlessHarvester("headless-chromium", threat, BROWSERLIKE,
                          "Playwright + Debian Chromium (HeadlessChrome UA), solves the "
                          "challenge itself, visits every artwork page, paced by RateLimit",
                          browser=True),
        HeadlessHarvester("headless-chromium-ua", threat, BROWSERLIKE,
                          "as headless-chromium with the UA's 'HeadlessChrome' replaced by "
                          "'Chrome' (one line of scraper code)", browser=True,
                          user_agent_fix=True),
    ]  # fmt: skip
