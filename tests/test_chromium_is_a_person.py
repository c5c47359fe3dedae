"""Debian's real Chromium browsing the demo with default settings: the header fingerprints and
behaviour rules of issue 15 never refuse it (no challenge, no block).

Headless Chromium says `HeadlessChrome` in its User-Agent, which the catalogue challenges by
name; the context sends the headful User-Agent of the same version instead, so every header
rule judges it as the browser it is (its Sec-CH-UA, Sec-Fetch-* and order are Chromium's own).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from scrapeshield.demo.app import TRAP_PATH, create_app
from scrapeshield.settings import Settings
from tests.browsers import launched_chromium
from tests.challenge.conftest import LoopRecorder, shield_of
from tests.servers import LOOPS, redis_store_settings, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]
IMAGES_LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


@pytest.fixture
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("store", ["memory", "redis"])
def test_chromium_browses_the_gallery_without_a_challenge(
    chromium: Any,
    loop: str,
    store: str,
    redis_url: str,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="scrapeshield.blocklog")
    extra = redis_store_settings(redis_url, redis_prefix) if store == "redis" else {}
    # Stricter than the default: any signal of weight >= 10 would challenge, so this shows
    # Chromium scores 0 on every header rule. The listing's thumbnails (ids 1..48 in page
    # order) are a walk (weight 20, never a challenge by default): weighed 0 here.
    settings = Settings(
        directives={"trap_paths": [TRAP_PATH]},
        challenge={"secret_keys": ["k" * 32]},
        policy={"challenge_score": 10, "weights": {"behaviour/sequential-ids": 0}},
        **extra,
    )
    app = create_app(settings)
    recorder = LoopRecorder(app)
    major = chromium.version.split(".")[0]
    user_agent = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )
    statuses: list[tuple[str, int]] = []
    sent: list[dict[str, str]] = []
    with serve(recorder, loop=loop) as server:
        try:
            base = f"http://localhost:{server.port}"
            context = chromium.new_context(user_agent=user_agent)
            page = context.new_page()
            page.on("response", lambda r: statuses.append((r.url, r.status)))
            page.on("request", lambda r: sent.append(r.headers))
            page.goto(f"{base}/")
            page.wait_for_function(IMAGES_LOADED, timeout=20_000)
            page.click("a[href='/artworks/30']")
            page.wait_for_selector("article.artwork")
            # its image loaded before "next" leaves the page (else its fetch may be cancelled,
            # and the 16 originals below be 15: seen once on a loaded host)
            page.wait_for_function(IMAGES_LOADED, timeout=10_000)
            for _ in range(12):  # "next ->" twelve times, each page's image loaded
                page.click("text=next →")
                page.wait_for_selector("article.artwork")
                page.wait_for_function(IMAGES_LOADED, timeout=10_000)
            for artwork in (250, 7, 181):
                page.goto(f"{base}/artworks/{artwork}")
                page.wait_for_function(IMAGES_LOADED, timeout=10_000)
            context.close()
        finally:
            if recorder.loop is not None:
                closing = shield_of(app).aclose()
                asyncio.run_coroutine_threadsafe(closing, recorder.loop).result(timeout=5)
    refused = [(url, status) for url, status in statuses if status >= 400]
    assert not refused, refused
    originals = {u.rsplit("/", 1)[-1] for u, _ in statuses if "/images/" in u}
    assert originals >= {f"{n}.png" for n in (*range(30, 43), 250, 7, 181)}, sorted(originals)
    assert any("sec-ch-ua" in headers for headers in sent)  # client hints were judged
    decisions = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "scrapeshield.blocklog"
    ]
    assert not decisions, decisions
