"""Rights metadata embedded in served images, read back by Pillow and exiftool over uvicorn."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from scrapeshield import ScrapeShield, Settings, Shield
from scrapeshield.demo.app import TRAP_PATH, create_app
from scrapeshield.demo.art import png, thumbnail
from scrapeshield.directives.images import ImageMetadata
from scrapeshield.directives.settings import DirectivesSettings, Preferences
from scrapeshield.signals import Action, Decision
from scrapeshield.synthetic import synthetic_scope
from tests.browsers import firefox
from tests.directives.apps import BROWSER
from tests.directives.images_fixture import PLUS, exiftool, make, pillow_xmp, with_exiftool
from tests.servers import LOOPS, serve

HEADERS = firefox(**{"User-Agent": BROWSER})
PROHIBITED = PLUS + "DMI-PROHIBITED-AIMLTRAINING"


def pixels(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    return image.convert("RGB").tobytes()


@pytest.mark.parametrize("loop", LOOPS)
def test_demo_originals_carry_the_opt_out(loop: str, tmp_path: Path) -> None:
    settings = Settings(
        site_name="Demo Art Gallery",
        terms_url="/terms",
        safelist=[{"name": "tests", "ips": ["127.0.0.1"]}],
        directives={
            "trap_paths": [TRAP_PATH],
            "image_metadata": True,
            "tdm_policy_url": "https://demo.example/tdm-policy.json",
        },
    )
    with serve(create_app(settings), loop=loop) as server, httpx.Client(base_url=server.url) as c:
        response = c.get("/images/3.png", headers=HEADERS)
        assert response.status_code == 200
        body = response.content
        assert body != png(3)
        assert pixels(body) == pixels(png(3))
        assert response.headers["content-length"] == str(len(body))
        assert response.headers["accept-ranges"] == "none"
        xmp = pillow_xmp(body)
        assert xmp["DataMining"] == PROHIBITED
        assert xmp["WebStatement"] == f"{server.url}/terms"
        assert xmp["reservation"] == "1"
        assert xmp["policy"] == "https://demo.example/tdm-policy.json"
        tags = exiftool(body, ".png", tmp_path)
        assert tags["[XMP-plus] DataMining"] == PROHIBITED
        assert tags["[XMP-tdm] Reservation"] == "1"
        assert tags["[XMP-xmpRights] WebStatement"] == f"{server.url}/terms"
        assert not any("Warning" in key for key in tags)
        # A range of the app's file would not match the file we send: the whole file, 200.
        ranged = c.get("/images/3.png", headers={**HEADERS, "Range": "bytes=0-9"})
        assert ranged.status_code == 200
        assert ranged.content == body
        # Thumbnails are not originals: untouched (image_metadata_groups = ["images"]).
        assert c.get("/thumbs/3.png", headers=HEADERS).content == thumbnail(3)


def artist_hook(facts: Any) -> Preferences | None:
    if facts.path.startswith("/images/ann/"):
        return Preferences(rights="© Ann Example 2026", credit="Ann Example")
    return None


@pytest.mark.parametrize("loop", LOOPS)
def test_static_files_existing_xmp_etags_and_artists(loop: str, tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "ann").mkdir(parents=True)
    edited = with_exiftool(
        make("JPEG", exif=True),
        ".jpg",
        tmp_path,
        "-XMP-dc:Creator=Ann Example",
        f"-XMP-plus:DataMining={PLUS}DMI-ALLOWED",
    )
    (root / "a.jpg").write_bytes(edited)
    (root / "ann" / "b.png").write_bytes(make("PNG"))
    (root / "c.webp").write_bytes(make("WEBP", mode="RGBA", lossless=True))
    app = Starlette(routes=[Mount("/images", StaticFiles(directory=root))])
    settings = Settings(
        terms_url="https://art.example/terms",
        safelist=[{"name": "tests", "ips": ["127.0.0.1"]}],
        directives={"image_metadata": True, "preference_hook": artist_hook},
    )
    with (
        serve(ScrapeShield(app, settings=settings), loop=loop) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        jpeg = c.get("/images/a.jpg", headers=HEADERS)
        assert jpeg.status_code == 200
        assert len(jpeg.content) == int(jpeg.headers["content-length"])
        tags = exiftool(jpeg.content, ".jpg", tmp_path)
        assert tags["[XMP-plus] DataMining"] == PROHIBITED  # merged: ours replaces theirs...
        assert "[XMP-plus] DataMining+" not in tags  # ...and is the only one
        assert tags["[XMP-dc] Creator"] == "Ann Example"  # their other properties kept
        assert tags["[IFD0] ImageDescription"] == "exif description"  # Exif untouched
        assert tags["[XMP-xmpRights] WebStatement"] == "https://art.example/terms"
        assert pixels(jpeg.content) == pixels(edited)

        etag = jpeg.headers["etag"]
        assert "-xmp" in etag
        again = c.get("/images/a.jpg", headers={**HEADERS, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.headers["etag"] == etag
        head = c.head("/images/a.jpg", headers=HEADERS)
        assert head.status_code == 200
        assert head.headers["etag"] == etag

        ann = c.get("/images/ann/b.png", headers=HEADERS)
        xmp = pillow_xmp(ann.content)
        assert xmp["Credit"] == "Ann Example"
        assert xmp["rights"] == {"Alt": {"li": {"lang": "x-default", "text": "© Ann Example 2026"}}}
        assert xmp["DataMining"] == PROHIBITED
        assert c.get("/images/missing.png", headers=HEADERS).status_code == 404

        webp = c.get("/images/c.webp", headers=HEADERS)
        assert webp.headers["content-type"] == "image/webp"
        assert len(webp.content) == int(webp.headers["content-length"])
        assert pillow_xmp(webp.content)["DataMining"] == PROHIBITED
        assert pixels(webp.content) == pixels((root / "c.webp").read_bytes())
        tags = exiftool(webp.content, ".webp", tmp_path)
        assert tags["[XMP-plus] DataMining"] == PROHIBITED
        assert not any("Warning" in key for key in tags)


async def test_decoys_and_other_responses_are_not_rewritten() -> None:
    section = DirectivesSettings(image_metadata=True)
    metadata = ImageMetadata(section)
    shield = Shield(Settings())
    facts = shield.facts(synthetic_scope(path="/images/1.png"))
    png_headers = [(b"content-type", b"image/png")]
    allow = Decision(Action.ALLOW, "allow")
    assert await metadata.body_rewriter(facts, allow, 200, png_headers) is not None
    assert (
        await metadata.body_rewriter(facts, Decision(Action.DECOY, "d"), 200, png_headers) is None
    )
    assert await metadata.body_rewriter(facts, allow, 206, png_headers) is None
    assert await metadata.body_rewriter(facts, allow, 404, png_headers) is None
    assert (
        await metadata.body_rewriter(facts, allow, 200, [(b"content-type", b"image/gif")]) is None
    )
    gzip = [*png_headers, (b"content-encoding", b"gzip")]
    assert await metadata.body_rewriter(facts, allow, 200, gzip) is None
    thumbs = shield.facts(synthetic_scope(path="/thumbs/1.png"))
    assert await metadata.body_rewriter(thumbs, allow, 200, png_headers) is None


def test_the_toml_examples_of_the_directives_page_are_valid(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "directives.md").read_text("utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, re.DOTALL)
    assert any("image_metadata" in block for block in blocks)
    for n, block in enumerate(blocks):
        path = tmp_path / f"{n}.toml"
        path.write_text(block, encoding="utf-8")
        Settings.from_file(path)


async def test_streamed_bodies_and_extension_messages() -> None:
    from scrapeshield.directives.imagefile import plan_png
    from scrapeshield.directives.images import ImageRewriter
    from scrapeshield.directives.xmp import RightsFields

    fields = RightsFields(PROHIBITED, 1)
    data = make("PNG", 32)
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    # Chunked (no Content-Length): edited, and still without one.
    rewriter = ImageRewriter(plan_png, fields, 1 << 18)
    start = {"type": "http.response.start", "status": 200, "headers": [(b"etag", b'W/"1"')]}
    await rewriter.start(start, send)
    for i in range(0, len(data), 7):
        more = i + 7 < len(data)
        await rewriter.body(
            {"type": "http.response.body", "body": data[i : i + 7], "more_body": more}, send
        )
    headers = dict(sent[0]["headers"])
    assert b"content-length" not in headers
    assert headers[b"etag"] == f'W/"1-{fields.tag()}"'.encode()
    assert headers[b"accept-ranges"] == b"none"
    body = b"".join(m["body"] for m in sent[1:])
    assert pillow_xmp(body)["DataMining"] == PROHIBITED
    assert pixels(body) == pixels(data)

    # pathsend (the server sends the file itself): released untouched.
    sent.clear()
    rewriter = ImageRewriter(plan_png, fields, 1 << 18)
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"9")]}
    await rewriter.start(start, send)
    await rewriter.body({"type": "http.response.pathsend", "path": "/srv/a.png"}, send)
    assert sent == [start, {"type": "http.response.pathsend", "path": "/srv/a.png"}]
