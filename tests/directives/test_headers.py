"""Opt-out headers on the app's responses through a real uvicorn, and the artist hook."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from scrapeshield import Facts
from scrapeshield.directives import Preferences
from tests.directives.apps import BROWSER, make_app
from tests.servers import serve

pytestmark = pytest.mark.slow
NO_AI = {"x-robots-tag": "noai, noimageai", "tdm-reservation": "1", "content-usage": "train-ai=n"}


def directive_headers(response: httpx.Response) -> dict[str, list[str]]:
    names = ("x-robots-tag", "tdm-reservation", "tdm-policy", "content-usage")
    return {n: response.headers.get_list(n) for n in names if n in response.headers}


def get(client: httpx.Client, path: str) -> httpx.Response:
    """A browser's request (its full header set: a user agent alone, with no visitor token,
    looks like a script on an original, which identity challenges)."""
    headers = {
        "user-agent": BROWSER,
        "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "accept-language": "en-GB,en;q=0.5",
        "accept-encoding": "gzip, deflate",
    }
    return client.get(path, headers=headers)


def test_pages_and_images_carry_the_opt_out() -> None:
    app = make_app(tdm_policy_url="https://art.example/tdm-policy.json", noarchive=True)
    with serve(app) as server, httpx.Client(base_url=server.url) as c:
        for path in ("/gallery/1", "/images/cat.png"):
            found = directive_headers(get(c, path))
            assert found == {
                "x-robots-tag": ["noai, noimageai, noarchive"],
                "tdm-reservation": ["1"],
                "tdm-policy": ["https://art.example/tdm-policy.json"],
                "content-usage": ["train-ai=n"],
            }, path


def test_only_successful_responses_of_configured_types() -> None:
    with serve(make_app()) as server, httpx.Client(base_url=server.url) as c:
        assert directive_headers(get(c, "/api/x")) == {}  # application/json
        assert directive_headers(get(c, "/missing")) == {}  # 404
    with (
        serve(make_app(content_types=["image/*"])) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        assert directive_headers(get(c, "/gallery/1")) == {}
        assert directive_headers(get(c, "/images/a.png"))["tdm-reservation"] == ["1"]
    with serve(make_app(headers=False)) as server, httpx.Client(base_url=server.url) as c:
        assert directive_headers(get(c, "/gallery/1")) == {}


def test_what_the_app_set_is_not_duplicated() -> None:
    with serve(make_app()) as server, httpx.Client(base_url=server.url) as c:
        found = directive_headers(get(c, "/own"))
    # The app said noindex, noai; tdm-reservation 0; train-ai=y: only noimageai is added.
    assert found == {
        "x-robots-tag": ["noindex, noai", "noimageai"],
        "tdm-reservation": ["0"],
        "content-usage": ["train-ai=y"],
    }


def test_path_prefix_preferences() -> None:
    app = make_app(
        paths=[{"prefix": "/open/", "train_ai": True}, {"prefix": "/open/9", "search": False}]
    )
    with serve(app) as server, httpx.Client(base_url=server.url) as c:
        opened = directive_headers(get(c, "/open/1"))
        assert opened == {"tdm-reservation": ["0"], "content-usage": ["train-ai=y"]}
        longest = directive_headers(get(c, "/open/9"))
        assert longest["content-usage"] == ["train-ai=n, search=n"]
        assert directive_headers(get(c, "/gallery/1")) == {k: [v] for k, v in NO_AI.items()}


def artist_hook(facts: Facts) -> Preferences | None:
    """Alice opted in to AI training; everyone else keeps the site default."""
    if facts.path.startswith("/artists/alice"):
        return Preferences(train_ai=True)
    return None


async def async_artist_hook(facts: Facts) -> Preferences | None:
    await asyncio.sleep(0)
    return artist_hook(facts)


def broken_hook(facts: Facts) -> Preferences | None:
    raise RuntimeError("artist database down")


@pytest.mark.parametrize("hook", [artist_hook, async_artist_hook])
def test_the_artist_hook_overrides(hook: object) -> None:
    with serve(make_app(preference_hook=hook)) as server, httpx.Client(base_url=server.url) as c:
        alice = directive_headers(get(c, "/artists/alice"))
        assert alice == {"tdm-reservation": ["0"], "content-usage": ["train-ai=y"]}
        bob = directive_headers(get(c, "/artists/bob"))
        assert bob == {k: [v] for k, v in NO_AI.items()}


def test_a_failing_hook_keeps_the_opt_out(caplog: pytest.LogCaptureFixture) -> None:
    with (
        serve(make_app(preference_hook=broken_hook)) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        response = get(c, "/artists/alice")
    assert response.status_code == 200
    assert directive_headers(response) == {k: [v] for k, v in NO_AI.items()}
    assert "preference_hook failed" in caplog.text
