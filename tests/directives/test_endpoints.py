"""robots.txt, tdmrep.json and ai.txt served through a real uvicorn: caching, HEAD, merge."""

from __future__ import annotations

import json
import urllib.robotparser
from typing import Any

import httpx
import pytest
from protego import Protego
from starlette.responses import HTMLResponse

from scrapeshield import ScrapeShield, Settings
from tests.browsers import firefox
from tests.directives.apps import BROWSER, make_app
from tests.servers import serve

pytestmark = pytest.mark.slow
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)"


def test_robots_is_served_cached_and_conditional() -> None:
    with serve(make_app(trap_paths=["/trap/"])) as server, httpx.Client(base_url=server.url) as c:
        first = c.get("/robots.txt", headers=firefox(**{"User-Agent": BROWSER}))
        assert first.status_code == 200
        assert first.headers["content-type"] == "text/plain; charset=utf-8"
        assert "max-age=3600" in first.headers["cache-control"]
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert "User-agent: ClaudeBot" in first.text
        assert "Disallow: /trap/" in first.text

        again = c.get("/robots.txt", headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert c.get("/robots.txt", headers={"if-modified-since": modified}).status_code == 304
        stale = c.get("/robots.txt", headers={"if-none-match": '"other"'})
        assert stale.status_code == 200
        assert stale.text == first.text
        bad_date = c.get("/robots.txt", headers={"if-modified-since": "not a date"})
        assert bad_date.status_code == 200

        head = c.head("/robots.txt")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len(first.content))


def test_a_blocked_crawler_can_still_read_the_rules() -> None:
    with serve(make_app()) as server, httpx.Client(base_url=server.url) as c:
        assert c.get("/gallery/1", headers={"user-agent": GPTBOT}).status_code == 403
        robots = c.get("/robots.txt", headers={"user-agent": GPTBOT})
        assert robots.status_code == 200
        parser = Protego.parse(robots.text)
        assert not parser.can_fetch(f"{server.url}/gallery/1", GPTBOT)
        assert c.get("/ai.txt", headers={"user-agent": GPTBOT}).status_code == 200


def test_merge_mode_combines_the_apps_robots_txt() -> None:
    app = make_app(
        app_robots=True,
        robots="merge",
        trap_paths=["/trap/"],
        robots_rules="User-agent: *\nDisallow: /from-settings/\n",
    )
    with serve(app) as server, httpx.Client(base_url=server.url) as c:
        response = c.get("/robots.txt", headers={"if-none-match": '"x"', "accept-encoding": "gzip"})
        assert response.status_code == 200
        text = response.text
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "Sitemap: https://art.example/app-sitemap.xml" in text
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(text.splitlines())
        site = "https://art.example"
        assert not parser.can_fetch("Mozilla", f"{site}/app-private/x")
        assert not parser.can_fetch("Mozilla", f"{site}/from-settings/x")
        assert parser.can_fetch("Googlebot", f"{site}/app-private/x")  # the app's Googlebot group
        assert not parser.can_fetch("Googlebot", f"{site}/trap/x")
        assert not parser.can_fetch("ClaudeBot", f"{site}/gallery/1")
        etag = response.headers["etag"]
        assert c.get("/robots.txt", headers={"if-none-match": etag}).status_code == 304
        assert c.head("/robots.txt").content == b""


def test_merge_mode_without_an_app_robots_txt() -> None:
    with serve(make_app(robots="merge")) as server, httpx.Client(base_url=server.url) as c:
        text = c.get("/robots.txt").text
        assert "User-agent: GPTBot" in text
        assert "User-agent: *" in text


def test_robots_off_lets_the_app_answer() -> None:
    app = make_app(app_robots=True, robots="off")
    with serve(app) as server, httpx.Client(base_url=server.url) as c:
        text = c.get("/robots.txt", headers=firefox(**{"User-Agent": BROWSER})).text
        assert "scrapeshield" not in text
        assert "Disallow: /app-private/" in text


def test_tdmrep_json_and_ai_txt() -> None:
    app = make_app(
        tdm_policy_url="https://art.example/tdm-policy.json",
        paths=[{"prefix": "/open/", "train_ai": True}],
    )
    with serve(app) as server, httpx.Client(base_url=server.url) as c:
        tdm = c.get("/.well-known/tdmrep.json")
        assert tdm.headers["content-type"] == "application/json"
        assert tdm.json() == [
            {"location": "/open/*", "tdm-reservation": 0},
            {
                "location": "/*",
                "tdm-reservation": 1,
                "tdm-policy": "https://art.example/tdm-policy.json",
            },
        ]
        assert (
            c.get(
                "/.well-known/tdmrep.json", headers={"if-none-match": tdm.headers["etag"]}
            ).status_code
            == 304
        )
        ai = c.get("/ai.txt")
        assert ai.headers["content-type"] == "text/plain; charset=utf-8"
        lines = ai.text.splitlines()
        assert "User-Agent: *" in lines
        assert "Disallow: *.png" in lines
        assert "Allow: /open/" in lines
        assert json.loads(tdm.text)  # valid JSON document


def test_endpoints_can_be_switched_off() -> None:
    app = make_app(tdmrep_json=False, ai_txt=False)
    with serve(app) as server, httpx.Client(base_url=server.url) as c:
        assert (
            c.get(
                "/.well-known/tdmrep.json", headers=firefox(**{"User-Agent": BROWSER})
            ).status_code
            == 404
        )
        assert c.get("/ai.txt", headers=firefox(**{"User-Agent": BROWSER})).status_code == 404


def test_merge_mode_ignores_an_html_shell() -> None:
    async def shell(scope: Any, receive: Any, send: Any) -> None:
        await HTMLResponse("<html><head><meta content='a:b'></head>app</html>")(
            scope, receive, send
        )

    app = ScrapeShield(shell, settings=Settings(directives={"robots": "merge"}))
    with serve(app) as server, httpx.Client(base_url=server.url) as c:
        text = c.get("/robots.txt").text
    assert "<" not in text
    assert "User-agent: GPTBot" in text
