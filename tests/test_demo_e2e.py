"""`scrapeshield demo` as an operator runs it: a real process serving the protected gallery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.browsers import chrome
from tests.servers import free_port, wait_for_port

pytestmark = pytest.mark.slow

BROWSER = chrome()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPESHIELD_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapeshield.cli", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        wait_for_port(port, timeout=20)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_gallery_pages_and_assets_for_a_browser(demo: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = demo
    with httpx.Client(base_url=url, headers=BROWSER) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert 'href="/artworks/1"' in index.text
        assert "/static/gallery.css" in index.text

        page = client.get("/artworks/42")
        assert page.status_code == 200
        assert 'src="/images/42.png"' in page.text

        image = client.get("/images/42.png", headers={"accept": "image/avif,image/webp,*/*"})
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(PNG_SIGNATURE)

        css = client.get("/static/gallery.css", headers={"accept": "text/css,*/*;q=0.1"})
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        js = client.get("/static/gallery.js", headers={"accept": "*/*"})
        assert js.status_code == 200
        assert "javascript" in js.headers["content-type"]

        robots = client.get("/robots.txt")
        assert robots.status_code == 200
        assert "User-agent: GPTBot" in robots.text


def test_empty_user_agent_is_not_let_through(demo: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = demo
    response = httpx.get(url + "/artworks/42", headers={"user-agent": "", "accept": "text/html"})
    assert response.status_code in (403, 429)
    assert "/terms" in response.text  # the page names the demo's terms of service


def test_stops_cleanly(demo: tuple[str, subprocess.Popen[str]]) -> None:
    _, process = demo
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert "Demo gallery on" in output
    assert "Traceback" not in output
    assert '"rule":"score/challenge"' in output  # the empty-UA request, as a block-log line
