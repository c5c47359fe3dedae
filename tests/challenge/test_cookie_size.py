"""A pass cookie among many cookies is found; a Cookie header over the cap is served as one
without a pass (a challenge again, never an error), through real uvicorn on both loops."""

from __future__ import annotations

import httpx
import pytest

from scrapeshield.facts import MAX_COOKIE_HEADER
from tests.challenge.conftest import gallery
from tests.challenge.helpers import NAVIGATE, challenge_all, parse_page, solve
from tests.servers import LOOPS


@pytest.mark.parametrize("loop", LOOPS)
def test_pass_cookie_in_a_large_cookie_header(loop: str) -> None:
    with (
        gallery(challenge_all(), loop=loop) as served,
        httpx.Client(base_url=served.url, headers=NAVIGATE) as client,
    ):
        page = client.get("/artworks/3", headers=NAVIGATE)
        answer = client.post(parse_page(page.text).action, data=solve(parse_page(page.text)))
        assert answer.status_code == 303
        name, _, value = answer.headers["set-cookie"].split(";")[0].partition("=")
        filler = "; ".join(f"analytics{i}=abcdef" for i in range(1500))
        big = f"{filler}; {name}={value}"
        assert len(big) <= MAX_COOKIE_HEADER
        client.cookies.clear()
        passed = client.get("/artworks/3", headers={**NAVIGATE, "cookie": big})
        assert passed.status_code == 200

        over = "pad=" + "x" * MAX_COOKIE_HEADER + f"; {name}={value}"
        refused = client.get("/artworks/3", headers={**NAVIGATE, "cookie": over})
        assert refused.status_code == 403  # treated as no pass: challenged again
        assert parse_page(refused.text).action
        assert served.event_names().count("challenge/issued") == 2
