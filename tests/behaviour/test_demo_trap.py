"""The demo's trap through real HTTP (uvicorn): linked invisibly, disallowed, blocked and logged."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest

from scrapeshield.demo.app import TRAP_PATH, create_app
from tests.browsers import chrome
from tests.servers import serve

pytestmark = pytest.mark.slow


def test_demo_trap_is_hidden_disallowed_blocked_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="scrapeshield.blocklog")
    with serve(create_app()) as server, httpx.Client(base_url=server.url) as client:
        page = client.get("/artworks/3", headers=chrome())
        assert page.status_code == 200
        [link] = re.findall(r"<a [^>]*href=\"" + re.escape(TRAP_PATH) + r"\"[^>]*>", page.text)
        for attribute in ("hidden", 'aria-hidden="true"', 'tabindex="-1"', 'rel="nofollow"'):
            assert attribute in link
        assert "display:none" in link
        robots = client.get("/robots.txt")
        assert f"Disallow: {TRAP_PATH}" in robots.text
        trapped = client.get(TRAP_PATH, headers=chrome())
        assert trapped.status_code == 403
        again = client.get("/artworks/4", headers=chrome())
        assert again.status_code == 403
    records = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "scrapeshield.blocklog"
    ]
    trap_records = [r for r in records if r.get("rule") == "trap"]
    assert len(trap_records) >= 2, records
    assert any("trap/hit" in json.dumps(r) for r in trap_records)
