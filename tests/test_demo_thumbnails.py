"""The demo index shows thumbnails, not originals: browsing it spends nothing meant for those."""

from __future__ import annotations

import re
import struct

from starlette.testclient import TestClient

from scrapeshield import Settings, Shield
from scrapeshield.demo.app import create_gallery
from scrapeshield.demo.art import SIZE, THUMB_STEP, png, thumbnail
from scrapeshield.synthetic import synthetic_scope


def test_the_index_links_thumbnails_and_an_artwork_page_its_original() -> None:
    with TestClient(create_gallery()) as client:
        index = client.get("/").text
        page = client.get("/artworks/3").text
        thumb = client.get("/thumbs/3.png")
    assert re.findall(r'<img src="/(\w+)/', index) == ["thumbs"] * index.count("<img ")
    assert '<img src="/images/3.png"' in page
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/png"
    assert thumb.content == thumbnail(3) != png(3)
    width, height = struct.unpack(">II", thumb.content[16:24])
    assert width == height == SIZE // THUMB_STEP


def test_thumbnails_are_a_route_group_of_their_own_before_originals() -> None:
    shield = Shield(Settings())
    groups = {
        path: shield.facts(synthetic_scope(path=path)).route_group
        for path in ("/thumbs/3.png", "/thumbnails/a.jpg", "/images/3.png", "/x/3.png")
    }
    assert groups == {
        "/thumbs/3.png": "thumbnails",
        "/thumbnails/a.jpg": "thumbnails",
        "/images/3.png": "images",
        "/x/3.png": "images",
    }
