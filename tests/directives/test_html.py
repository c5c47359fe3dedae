"""The template helper and the streaming `<head>` injector (unit, and through uvicorn)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware

from scrapeshield import ScrapeShield, Settings
from scrapeshield.directives.html import HtmlRewriter, meta_tags
from scrapeshield.directives.settings import Preferences
from tests.browsers import firefox
from tests.directives.apps import BROWSER, PAGE, ROUTES, make_app
from tests.servers import serve

SNIPPET = str(meta_tags())


def test_meta_tags() -> None:
    assert SNIPPET == (
        '<meta name="robots" content="noai, noimageai"><meta name="tdm-reservation" content="1">'
    )
    assert meta_tags(tdm_policy_url="https://a.example/p?x=1&y=2").endswith(
        '<meta name="tdm-policy" content="https://a.example/p?x=1&amp;y=2">'
    )
    assert str(meta_tags(Preferences(train_ai=True))) == '<meta name="tdm-reservation" content="0">'
    assert meta_tags().__html__() == SNIPPET  # Jinja2/MarkupSafe treat it as safe markup


async def rewrite(chunks: list[bytes], content_length: bool = False) -> tuple[Any, bytes]:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    rewriter = HtmlRewriter(SNIPPET.encode(), lookahead=4096)
    headers = [(b"content-type", b"text/html")]
    if content_length:
        headers.append((b"content-length", str(sum(map(len, chunks))).encode()))
    await rewriter.start({"type": "http.response.start", "status": 200, "headers": headers}, send)
    for i, chunk in enumerate(chunks):
        more = i < len(chunks) - 1
        await rewriter.body({"type": "http.response.body", "body": chunk, "more_body": more}, send)
    assert sent[0]["type"] == "http.response.start"
    assert sent[-1].get("more_body") is False
    return sent[0], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("cut", range(1, len(PAGE)))
async def test_every_split_point(cut: int) -> None:
    data = PAGE.encode()
    start, body = await rewrite([data[:cut], data[cut:]], content_length=True)
    expected = PAGE.replace("<head>", "<head>" + SNIPPET).encode()
    assert body == expected
    assert dict(start["headers"])[b"content-length"] == str(len(expected)).encode()


async def test_one_byte_chunks_and_head_attributes() -> None:
    page = b"<html><HEAD lang='en'><title>x</title></HEAD><header>h</header></html>"
    _, body = await rewrite([page[i : i + 1] for i in range(len(page))])
    assert body == page.replace(b"<HEAD lang='en'>", b"<HEAD lang='en'>" + SNIPPET.encode())


async def test_no_head_passes_unchanged() -> None:
    page = b"<html><header>not a head</header><body>" + b"x" * 10_000 + b"</body></html>"
    start, body = await rewrite([page[:3000], page[3000:7000], page[7000:]], content_length=True)
    assert body == page
    assert dict(start["headers"])[b"content-length"] == str(len(page)).encode()


@pytest.mark.slow
def test_injection_through_uvicorn_with_chunked_responses() -> None:
    with serve(make_app(inject_html=True)) as server, httpx.Client(base_url=server.url) as c:
        expected = PAGE.replace("<head>", "<head>" + SNIPPET)
        for path in ("/stream/head", "/stream/title"):
            response = c.get(path, headers=firefox(**{"User-Agent": BROWSER}))
            assert response.headers.get("transfer-encoding") == "chunked", path
            assert response.text == expected, path
        fixed = c.get("/gallery/1", headers=firefox(**{"User-Agent": BROWSER}))
        assert fixed.text == expected
        assert fixed.headers["content-length"] == str(len(expected.encode()))
        assert c.get("/missing", headers=firefox(**{"User-Agent": BROWSER})).text.count("noai") == 0
        head = c.head("/gallery/1", headers=firefox(**{"User-Agent": BROWSER}))
        assert head.status_code == 200
        assert head.content == b""


@pytest.mark.slow
def test_artist_opt_in_and_compressed_bodies() -> None:
    def hook(facts: Any) -> Preferences | None:
        return Preferences(train_ai=True) if facts.path == "/artists/alice" else None

    with (
        serve(make_app(inject_html=True, preference_hook=hook)) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        alice = c.get("/artists/alice", headers=firefox(**{"User-Agent": BROWSER})).text
        assert '<meta name="tdm-reservation" content="0">' in alice
        assert "noai" not in alice

    inner = GZipMiddleware(Starlette(routes=ROUTES), minimum_size=10)
    settings = Settings(directives={"inject_html": True})
    with serve(ScrapeShield(inner, settings=settings)) as server:
        raw = httpx.get(
            f"{server.url}/gallery/1",
            headers=firefox(**{"User-Agent": BROWSER, "Accept-Encoding": "gzip"}),
        )
        assert raw.headers["content-encoding"] == "gzip"
        assert raw.text == PAGE  # httpx decompressed it: untouched by the injector
        assert raw.headers["x-robots-tag"] == "noai, noimageai"  # headers still added


async def test_extension_messages_release_the_response_untouched() -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    rewriter = HtmlRewriter(SNIPPET.encode(), lookahead=4096)
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"9")]}
    await rewriter.start(start, send)
    assert sent == []
    await rewriter.body({"type": "http.response.pathsend", "path": "/srv/page.html"}, send)
    assert sent == [start, {"type": "http.response.pathsend", "path": "/srv/page.html"}]
