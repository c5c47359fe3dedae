"""A real Chromium (Debian's, driven by Playwright) solves the challenge and browses on.

Chromium is launched from /usr/bin/chromium (never `playwright install`); the demo gallery is
served by uvicorn on 127.0.0.1 and opened as http://localhost, a secure context for WebCrypto.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from scrapeshield.demo.app import create_app
from scrapeshield.settings import Settings
from tests.browsers import launched_chromium, person_user_agent
from tests.challenge.conftest import redis_events, serve_closing, shield_of
from tests.challenge.helpers import challenge_all
from tests.servers import redis_store_settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]

IMAGES_LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


class Person:
    """A Chromium whose pages send what a person's headed Chromium sends (its User-Agent)."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.user_agent = person_user_agent(browser.version)

    def new_context(self, **options: Any) -> Any:
        return self.browser.new_context(user_agent=self.user_agent, **options)

    def new_page(self, **options: Any) -> Any:
        return self.new_context(**options).new_page()


@pytest.fixture
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield Person(browser)


def test_chromium_solves_once_then_browses_twenty_artworks(
    chromium: Any, redis_url: str, redis_prefix: str
) -> None:
    settings = challenge_all(
        difficulty=16,
        max_difficulty=16,
        settings=redis_store_settings(redis_url, redis_prefix),
    )
    app = create_app(settings)
    with serve_closing(app, lambda: shield_of(app)) as server:
        base = f"http://localhost:{server.port}"
        page = chromium.new_page()
        images: list[tuple[str, int]] = []
        page.on(
            "response",
            lambda r: images.append((r.url, r.status)) if "/images/" in r.url else None,
        )
        started = time.perf_counter()
        first = page.goto(f"{base}/artworks/7")
        assert first is not None
        assert first.status == 403
        page.wait_for_url(f"{base}/artworks/7", timeout=60_000)
        page.wait_for_selector("article.artwork", timeout=60_000)
        solved_in = time.perf_counter() - started
        page.wait_for_function(IMAGES_LOADED, timeout=10_000)
        assert {c["name"] for c in page.context.cookies()} == {"__ss_vid", "scrapeshield_pass"}

        for artwork in range(8, 28):
            response = page.goto(f"{base}/artworks/{artwork}")
            assert response is not None
            assert response.status == 200, artwork
            assert page.locator("article.artwork img").count() == 1
            page.wait_for_function(IMAGES_LOADED, timeout=10_000)
        page.close()

    assert len({url for url, status in images if status == 200}) == 21
    assert all(status == 200 for _, status in images)
    events = redis_events(redis_url, redis_prefix)
    issued = [e for e in events if e["event"] == "challenge/issued"]
    passed = [e for e in events if e["event"] == "challenge/passed"]
    assert [e["path"] for e in issued] == ["/artworks/7"]
    assert len(passed) == 1
    after = [e for e in events if e["time"] > passed[0]["time"]]
    assert after == [], "no challenge (or anything else) after the pass"
    print(f"\nchromium solved the default-difficulty challenge in {solved_in:.2f}s")


def test_chromium_without_javascript_gets_through_by_waiting(
    chromium: Any, redis_url: str, redis_prefix: str
) -> None:
    settings = challenge_all(
        noscript_wait=2,
        settings=redis_store_settings(redis_url, redis_prefix),
    )
    app = create_app(settings)
    with serve_closing(app, lambda: shield_of(app)) as server:
        base = f"http://localhost:{server.port}"
        context = chromium.new_context(java_script_enabled=False)
        page = context.new_page()
        started = time.perf_counter()
        page.goto(f"{base}/artworks/3")
        page.wait_for_selector("article.artwork", timeout=20_000)
        waited = time.perf_counter() - started
        assert page.url == f"{base}/artworks/3"
        assert waited >= 2.0
        context.close()
    events = [e["event"] for e in redis_events(redis_url, redis_prefix)]
    assert events.count("challenge/passed") == 1
    assert "challenge/failed" not in events


def test_the_pages_sha256_agrees_with_hashlib(chromium: Any) -> None:
    """The worker's plain-JavaScript SHA-256 (FIPS 180-4) against Python's, in Chromium itself:
    empty, one block, the padding edges (55/56/64 bytes), several blocks, non-ASCII."""
    import hashlib

    from scrapeshield.challenge.page import _asset

    source = _asset("worker.js").split("self.onmessage")[0]
    messages = ["", "abc", "x" * 55, "y" * 56, "z" * 64, "q" * 130, "nonce-ÄÖ:123456789"]
    page = chromium.new_page()
    found = page.evaluate(
        """([source, messages]) => {
            const lib = new Function(source + "; return {sha256, H};")();
            return messages.map((text) => {
                const bytes = new TextEncoder().encode(text);
                const buf = new Uint8Array(bytes.length + 72);
                buf.set(bytes);
                lib.sha256(buf, bytes.length);
                return Array.from(lib.H, (w) => (w >>> 0).toString(16).padStart(8, "0")).join("");
            });
        }""",
        [source, messages],
    )
    page.close()
    assert found == [hashlib.sha256(m.encode()).hexdigest() for m in messages]


def test_a_person_is_never_decoyed_or_refused_while_browsing(
    chromium: Any, redis_url: str, redis_prefix: str
) -> None:
    """Default policy with the deterrents turned up (decoy and tarpit thresholds just above
    the challenge's): Chromium browses the index and 20 artworks with their images."""
    settings = Settings(
        site_name="Test Gallery",
        **redis_store_settings(redis_url, redis_prefix),
        challenge={"secret_keys": ["test-key-0123456789abcdef"]},
        policy={"tarpit_score": 45, "decoy_score": 50},
    )
    app = create_app(settings)
    statuses: list[tuple[str, int, str]] = []
    with serve_closing(app, lambda: shield_of(app)) as server:
        base = f"http://localhost:{server.port}"
        page = chromium.new_page()
        page.on(
            "response",
            lambda r: statuses.append((r.url, r.status, r.headers.get("cache-control", ""))),
        )
        page.goto(f"{base}/")
        page.wait_for_function(IMAGES_LOADED, timeout=20_000)
        for artwork in range(1, 21):
            response = page.goto(f"{base}/artworks/{artwork}")
            assert response is not None
            assert response.status == 200, artwork
            page.wait_for_function(IMAGES_LOADED, timeout=10_000)
            page.wait_for_timeout(150)
        page.close()
    images = [s for s in statuses if "/images/" in s[0]]
    assert images
    assert all(status == 200 for url, status, _ in statuses if "favicon" not in url)
    assert not [s for s in images if "no-store" in s[2]], "a decoy was sent to a person"
    assert redis_events(redis_url, redis_prefix) == []
