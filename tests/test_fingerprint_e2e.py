"""Real clients through uvicorn + the middleware: real Chromium is never blocked, tools are.

Chromium is Debian's (/usr/bin/chromium, no Playwright download); `--host-resolver-rules`
maps a non-localhost name to 127.0.0.1 so the page is NOT a secure context, as for a real
visitor over plain HTTP: Chromium then sends no Sec-Fetch-* (this is the case the header
rules must not punish).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from scrapeshield import ScrapeShield, Settings
from tests.browsers import CHROMIUM, CHROMIUM_ARGS
from tests.servers import UvicornThread, serve

CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
pytestmark = pytest.mark.slow


async def gallery(request: Request) -> PlainTextResponse:
    return PlainTextResponse("GALLERY-OK")


@pytest.fixture(scope="module")
def server() -> Iterator[UvicornThread]:
    app = ScrapeShield(Starlette(routes=[Route("/", gallery)]), settings=Settings())
    with serve(app) as running:
        yield running


def chromium(url: str, *extra: str) -> str:
    args = [
        CHROMIUM, "--headless", *CHROMIUM_ARGS, *extra, "--dump-dom", url,
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    return result.stdout


@pytest.mark.browser
@pytest.mark.parametrize("host", ["gallery.example", "127.0.0.1"], ids=["plain-http", "localhost"])
def test_real_chromium_with_a_normal_user_agent_is_allowed(
    server: UvicornThread, host: str
) -> None:
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is required (scripts/setup --system installs it)")
    url = f"http://{host}:{server.port}/"
    rules = "--host-resolver-rules=MAP gallery.example 127.0.0.1"
    assert "GALLERY-OK" in chromium(url, f"--user-agent={CHROME_UA}", rules)


@pytest.mark.browser
def test_headless_chromium_is_challenged(server: UvicornThread) -> None:
    page = chromium(server.url + "/")
    assert "GALLERY-OK" not in page
    assert "Checking your browser" in page  # the proof-of-work challenge page


def test_http_libraries_are_blocked(server: UvicornThread) -> None:
    response = httpx.get(server.url + "/", headers={"host": "gallery.example"})
    assert response.status_code == 403
    assert response.json()["error"] == "block"
    if curl := shutil.which("curl"):
        out = subprocess.run(
            [curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", server.url + "/"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert out.stdout == "403"


def test_browser_headers_from_a_real_http_client_over_plain_http_pass(
    server: UvicornThread,
) -> None:
    headers = {
        "host": "gallery.example",
        "user-agent": CHROME_UA,
        "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "accept-language": "en-US,en;q=0.9",
        "accept-encoding": "gzip, deflate",
    }
    response = httpx.get(server.url + "/", headers=headers)
    assert response.text == "GALLERY-OK"
