"""The examples run as written: examples/fastapi_app and examples/django_site, each served by a
real uvicorn on both loops, with a browser's headers, a scraper's, and the health probe."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from scrapeshield.testing import browser_headers
from tests.servers import LOOPS, serve
from tests.windows import wait_for_room

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BROWSER = dict(browser_headers())  # 127.0.0.1 is a secure context, as localhost is
SCRAPER = {"User-Agent": "python-requests/2.32", "Accept": "*/*"}


def _fresh(directory: Path, module: str) -> Iterator[ModuleType]:
    """The example's module, imported anew (a fresh app and memory store per test)."""
    sys.path.insert(0, str(directory))
    try:
        for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
            del sys.modules[name]
        yield importlib.import_module(module)
    finally:
        sys.path.remove(str(directory))


@pytest.fixture
def fastapi_example() -> Iterator[ModuleType]:
    yield from _fresh(EXAMPLES / "fastapi_app", "main")
    sys.modules.pop("main", None)


@pytest.fixture
def django_example() -> Iterator[ModuleType]:
    yield from _fresh(EXAMPLES / "django_site", "artsite.asgi")


@pytest.mark.parametrize("loop", LOOPS)
def test_fastapi_example(loop: str, fastapi_example: ModuleType) -> None:
    with (
        serve(fastapi_example.app, loop=loop) as server,
        httpx.Client(base_url=server.url, headers=BROWSER) as client,
    ):
        page = client.get("/")
        assert page.status_code == 200
        assert "shield: allow (allow)" in page.text
        assert client.get("/", headers=SCRAPER).status_code == 403
        # @route.limit("5/minute") on login: its own counter, all in one minute's window
        wait_for_room(10.0)
        assert [client.post("/login").status_code for _ in range(6)] == [200] * 5 + [429]
        # @route.exempt: not counted
        assert {client.get("/status").status_code for _ in range(8)} == {200}
        # @route.group("api") under the router's /v1 prefix: the api group's RateLimit fields
        artwork = client.get("/v1/artworks/3")
        assert artwork.json()["id"] == 3
        assert '"api-client-30-10s"' in artwork.headers["ratelimit-policy"]
        # the health path passes whatever asks
        assert client.get("/healthz", headers=SCRAPER).text == "ok"


@pytest.mark.parametrize("loop", LOOPS)
def test_django_example(loop: str, django_example: ModuleType) -> None:
    with (
        serve(django_example.application, loop=loop, lifespan="off") as server,
        httpx.Client(base_url=server.url, headers=BROWSER) as client,
    ):
        page = client.get("/")
        assert page.status_code == 200, page.text
        assert "shield: allow (allow)" in page.text  # the view read the decision
        refused = client.get("/", headers=SCRAPER)
        assert refused.status_code == 403
        assert "Example Art" in refused.text or "request_id" in refused.text
        # /search is its own route group, 5 a minute (all in one minute's window)
        wait_for_room(10.0)
        codes = [client.get("/search", params={"q": str(n)}).status_code for n in range(6)]
        assert codes == [200] * 5 + [429]
        assert client.get("/images/1/original").status_code == 200
        assert client.get("/healthz", headers=SCRAPER).text == "ok"
        robots = client.get("/robots.txt")
        assert robots.status_code == 200
        assert "User-agent" in robots.text


def _code_lines(text: str) -> list[str]:
    """Lines without comments and blank lines (the docs annotate, the files explain)."""
    lines = [line.split("#", 1)[0].rstrip() for line in text.splitlines()]
    return [line for line in lines if line.strip()]


def test_the_django_guide_shows_the_example_as_it_is() -> None:
    """docs/django.md's asgi.py and scrapeshield.toml are the example project's, line for line
    (so the guide shows what the test above runs)."""
    import re

    guide = (EXAMPLES.parent / "docs" / "django.md").read_text("utf-8")
    asgi = re.findall(r"```python\n(# artsite/asgi.py\n.*?)```", guide, re.DOTALL)[0]
    source = (EXAMPLES / "django_site" / "artsite" / "asgi.py").read_text("utf-8")
    assert "\n".join(_code_lines(asgi)) in "\n".join(_code_lines(source))
    toml = re.findall(r"```toml\n(.*?)```", guide, re.DOTALL)[0]
    settings = (EXAMPLES / "django_site" / "scrapeshield.toml").read_text("utf-8")
    assert _code_lines(toml) == _code_lines(settings)
