"""A Japanese browser sees Japanese pages, over a real server on both event loops; an English
one (or any other language) English; a JSON client JSON whatever its language."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.challenge.conftest import gallery
from tests.challenge.helpers import parse_page
from tests.pages.helpers import ENGLISH, JAPANESE, PAGES, TITLES, ByPath, page_settings
from tests.servers import LOOPS

STATUS = {"block": 403, "throttle": 429, "challenge": 403}


def _lang(text: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', text)
    assert found, text[:200]
    return found.group(1)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_japanese_browser_sees_japanese_pages(loop: str) -> None:
    with (
        gallery(page_settings(), detectors=[ByPath()], loop=loop) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        assert client.get("/artworks/1", headers=JAPANESE).status_code == 200
        for page, path in PAGES.items():
            response = client.get(path, headers=JAPANESE)
            assert response.status_code == STATUS[page], page
            assert response.headers["content-language"] == "ja"
            assert _lang(response.text) == "ja"
            assert f"<h1>{TITLES['ja'][page]}</h1>" in response.text
            assert TITLES["en"][page] not in response.text
        throttled = client.get(PAGES["throttle"], headers=JAPANESE)
        assert throttled.headers["retry-after"] == "30"
        assert "約30秒後" in throttled.text
        challenge = client.get(PAGES["challenge"], headers=JAPANESE)
        parse_page(challenge.text)  # still a working challenge: token, config, form
        config = re.search(r'id="ss-config">([^<]+)</script>', challenge.text)
        assert config
        messages = json.loads(config.group(1))["messages"]  # the script's texts
        assert messages["working"] == "確認中です…通常1〜2秒で完了します。"
        assert "nonce-" in challenge.headers["content-security-policy"]


@pytest.mark.parametrize("loop", LOOPS)
def test_english_is_the_fallback_and_json_clients_get_json(loop: str) -> None:
    french = {**ENGLISH, "Accept-Language": "fr-FR,fr;q=0.9"}
    api = {
        "Accept": "application/json",
        "Accept-Language": "ja",
        "User-Agent": ENGLISH["User-Agent"],
    }
    with (
        gallery(page_settings(), detectors=[ByPath()], loop=loop) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        for page, path in PAGES.items():
            for headers in (ENGLISH, french):
                response = client.get(path, headers=headers)
                assert _lang(response.text) == "en"
                assert f"<h1>{TITLES['en'][page]}</h1>" in response.text
            answer = client.get(path, headers=api)
            assert answer.headers["content-type"] == "application/json", page
            assert answer.json()["request_id"]
