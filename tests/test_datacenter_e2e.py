"""network/datacenter through real uvicorn, behind a trusted proxy (X-Forwarded-For), on both
event loops: an AWS address adds the signal with the provider named, enough to tip a doubt
into a challenge (block log) but not to refuse a browser alone; a verified crawler from the
same cloud never gets it."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from scrapeshield import ScrapeShield, Settings
from tests.browsers import chrome
from tests.servers import LOOPS, serve

pytestmark = pytest.mark.slow

AWS_EC2 = "3.5.140.7"  # in 3.5.140.0/22, EC2 in ap-northeast-2 (packaged aws.txt)
AWS_EC2_V6 = "2600:1f14::1"  # in 2600:1f14::/35, EC2 in us-west-2
CCBOT_ON_AWS = "18.97.9.170"  # Common Crawl's published CCBot range, inside AWS EC2
ELSEWHERE = "192.0.2.44"  # no provider's (documentation network)
CCBOT = "CCBot/2.0 (https://commoncrawl.org/faq/)"


async def decision(request: Request) -> JSONResponse:
    made = request.state.scrapeshield
    reasons = [{"name": r.name, "detail": r.detail} for r in made.reasons]
    return JSONResponse({"action": str(made.action), "rule": made.rule, "reasons": reasons})


def app() -> ScrapeShield:
    settings = Settings(
        trusted_proxies=["127.0.0.1/32"],  # the test is the proxy: it picks the client address
        fingerprint={"allow_agents": ["CCBot"]},  # admitted, so its claim is verified
    )
    return ScrapeShield(Starlette(routes=[Route("/", decision)]), settings=settings)


def blocklog(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The refusals logged (not the evidence sample of allowed crawler requests)."""
    events = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "scrapeshield.blocklog"
    ]
    return [event for event in events if event["action"] != "allow"]


def names(reasons: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in reasons]


@pytest.mark.parametrize("loop", LOOPS)
def test_a_cloud_address_is_a_weighted_signal_never_a_verified_crawlers(
    loop: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scrapeshield.blocklog")
    no_sec_fetch = {k: v for k, v in chrome().items() if not k.startswith("Sec-Fetch")}
    with serve(app(), loop=loop) as server, httpx.Client(base_url=server.url) as client:

        def get(ip: str, headers: dict[str, str]) -> httpx.Response:
            return client.get("/", headers={**headers, "X-Forwarded-For": ip})

        browser = get(AWS_EC2, chrome())  # a person on a cloud desktop or VPN: served
        assert browser.status_code == 200
        body = browser.json()
        assert body["action"] == "allow"
        [signal] = [r for r in body["reasons"] if r["name"] == "network/datacenter"]
        assert signal["detail"] == f"{AWS_EC2} is in Amazon Web Services (EC2)'s published ranges"

        v6 = get(AWS_EC2_V6, chrome()).json()["reasons"]
        assert [r["detail"] for r in v6] == [
            f"{AWS_EC2_V6} is in Amazon Web Services (EC2)'s published ranges"
        ]
        assert get(ELSEWHERE, no_sec_fetch).status_code == 200  # one doubt alone: served
        assert blocklog(caplog) == []
        doubted = get(AWS_EC2, no_sec_fetch)  # the same doubt from a cloud: challenged
        assert doubted.status_code != 200

        crawler = get(CCBOT_ON_AWS, {"User-Agent": CCBOT})
        assert crawler.status_code == 200
        assert crawler.json()["rule"] == "verified-bot"
        assert "network/datacenter" not in names(crawler.json()["reasons"])
        impostor = get(AWS_EC2, {"User-Agent": CCBOT})  # AWS, but not Common Crawl's range
        assert impostor.status_code == 403

    challenged, spoofed = blocklog(caplog)
    assert (challenged["action"], challenged["client_ip"]) == ("challenge", AWS_EC2)
    assert "network/datacenter" in names(challenged["reasons"])
    assert spoofed["rule"] == "spoofed-crawler"
    assert "network/datacenter" in names(spoofed["reasons"])
