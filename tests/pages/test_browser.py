"""A Japanese Chromium solves the translated challenge and browses on; the page loads nothing
from another origin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browsers import launched_chromium, person_user_agent
from tests.challenge.conftest import gallery
from tests.challenge.helpers import challenge_all

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REMEMBER = """addEventListener("DOMContentLoaded", () => {
  if (document.getElementById("ss-form")) {
    const shown = document.documentElement.lang + "|" + document.querySelector("h1").textContent;
    sessionStorage.setItem("challenge", shown);
  }
});"""


@pytest.fixture
def browser() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def test_a_japanese_chromium_solves_the_japanese_challenge(
    browser: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = challenge_all(
        difficulty=12, max_difficulty=12, settings={"pages": {"logo_url": "/thumbs/1.png"}}
    )
    with gallery(settings) as served:
        context = browser.new_context(
            user_agent=person_user_agent(browser.version),
            locale="ja-JP",
            extra_http_headers={"Accept-Language": "ja,en;q=0.8"},
        )
        page = context.new_page()
        page.add_init_script(REMEMBER)
        hosts: set[str] = set()
        page.on(
            "request",
            lambda r: None if r.url.startswith("blob:") else hosts.add(urlsplit(r.url).netloc),
        )  # blob: is the page's own Web Worker
        first = page.goto(f"{served.url}/artworks/7")
        assert first is not None
        assert first.status == 403
        assert first.headers["content-language"] == "ja"
        page.wait_for_url(f"{served.url}/artworks/7", timeout=60_000)
        page.wait_for_selector("article.artwork", timeout=60_000)
        # What the challenge page showed (it was left at once, its body with it).
        assert page.evaluate("sessionStorage.getItem('challenge')") == "ja|ブラウザを確認しています"
        assert page.goto(f"{served.url}/artworks/8").status == 200
        context.close()
    assert hosts == {urlsplit(served.url).netloc}  # the logo too: nothing from elsewhere
    passed = [r for r in caplog.records if '"event":"challenge/passed"' in r.getMessage()]
    assert len(passed) == 1
