"""Scripts with browser user agents do not get past the challenge: requests, httpx, Scrapy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
import requests

from tests.challenge.conftest import gallery
from tests.challenge.helpers import BROWSER_UA, NAVIGATE, challenge_all, parse_page

pytestmark = [pytest.mark.slow, pytest.mark.clock_hour]

ARTWORK = "<article class=artwork>"


def test_requests_with_a_browser_user_agent_is_stopped() -> None:
    with gallery(challenge_all(difficulty=16)) as served, requests.Session() as session:
        session.headers.update(NAVIGATE)
        for n in range(1, 6):
            response = session.get(f"{served.url}/artworks/{n}", timeout=5)
            assert response.status_code == 403
            assert ARTWORK not in response.text
        # what a script can try without doing the work: follow the <noscript> refresh at once,
        # or post a made-up answer
        page = parse_page(response.text)
        assert page.wait_url is not None
        early = session.get(served.url + page.wait_url, timeout=5, allow_redirects=True)
        guess = session.post(
            served.url + page.action, data={"token": page.token, "counter": "0"}, timeout=5
        )
        assert early.status_code == guess.status_code == 403
        assert ARTWORK not in early.text + guess.text
        assert not session.cookies
        names = served.event_names()
        assert names.count("challenge/issued") == 5
        assert names.count("challenge/failed") == 2
        assert "challenge/passed" not in names


def test_httpx_following_redirects_is_stopped() -> None:
    with (
        gallery(challenge_all(difficulty=16)) as served,
        httpx.Client(base_url=served.url, headers=NAVIGATE, follow_redirects=True) as client,
    ):
        for path in ("/", "/artworks/1", "/images/1.png"):
            response = client.get(path)
            assert response.status_code == 403
            assert ARTWORK not in response.text
        # The `api` route group never challenges (on_challenge = "throttle"): its rate limits
        # decide, so a client that runs no JavaScript is served within its budget.
        api = client.get("/api/artworks")
        assert api.status_code == 200
        assert api.headers["content-type"] == "application/json"
        assert "challenge/passed" not in served.event_names()


SPIDER = """
import scrapy


class ArtSpider(scrapy.Spider):
    name = "art"
    start_urls = [{start!r}]
    custom_settings = {{
        "USER_AGENT": {agent!r},
        "ROBOTSTXT_OBEY": False,
        "HTTPERROR_ALLOW_ALL": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "CLOSESPIDER_PAGECOUNT": 60,
        "DEFAULT_REQUEST_HEADERS": {{
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        }},
    }}

    def parse(self, response):
        yield {{
            "url": response.url,
            "status": response.status,
            "artwork": {artwork!r} in response.text,
            "redirects": response.meta.get("redirect_urls", []),
        }}
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.parse)
"""


def test_scrapy_with_a_browser_user_agent_is_stopped(tmp_path: Path) -> None:
    # Header order off: Scrapy's order under a Chrome UA would add headers/order/chromium and
    # block it outright (score 80); this test is about the challenge flow it meets.
    settings = challenge_all(difficulty=16, settings={"fingerprint": {"header_order": False}})
    with gallery(settings) as served:
        spider = tmp_path / "art_spider.py"
        spider.write_text(
            textwrap.dedent(
                SPIDER.format(start=f"{served.url}/artworks/1", agent=BROWSER_UA, artwork=ARTWORK)
            )
        )
        out = tmp_path / "items.json"
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "runspider", str(spider), "-o", str(out)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        items = json.loads(out.read_text())
        names = served.event_names()
    assert items, "the spider saw no response at all"
    assert not any(item["artwork"] for item in items)
    assert {item["status"] for item in items} == {403}
    assert "challenge/passed" not in names
    assert "challenge/issued" in names
    # Scrapy's MetaRefreshMiddleware follows the <noscript> refresh at once: too early
    assert "challenge/failed" in names
