"""Good bots that cannot be verified get pages and feeds, not originals (issue 15, section 3)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

from scrapeshield.demo.app import TRAP_PATH, create_app
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action
from tests.challenge.conftest import LoopRecorder, shield_of
from tests.servers import LOOPS, redis_store_settings, serve
from tests.windows import wait_for_room

pytestmark = [pytest.mark.slow, pytest.mark.clock_hour]
TWITTERBOT = "Twitterbot/1.0"


@contextlib.contextmanager
def demo(loop: str, **extra: Any) -> Iterator[str]:
    app = create_app(Settings(directives={"trap_paths": [TRAP_PATH]}, **extra))
    recorder = LoopRecorder(app)
    with serve(recorder, loop=loop) as server:
        try:
            yield server.url
        finally:
            if recorder.loop is not None:
                closing = shield_of(app).aclose()
                asyncio.run_coroutine_threadsafe(closing, recorder.loop).result(timeout=5)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, redis_url: str, redis_prefix: str) -> dict[str, Any]:
    if request.param == "memory":
        return {}
    return redis_store_settings(redis_url, redis_prefix)


@pytest.mark.parametrize("loop", LOOPS)
def test_python_requests_named_twitterbot_gets_at_most_one_original(
    loop: str, store: dict[str, Any]
) -> None:
    """Before: 20 originals, then only the rate limit (thousands an hour)."""
    with demo(loop, **store) as url, requests.Session() as session:
        session.headers["User-Agent"] = TWITTERBOT
        statuses = [
            session.get(f"{url}/images/{n}.png", timeout=5).status_code for n in range(1, 41)
        ]
        assert statuses.count(200) <= 1, statuses
        assert set(statuses[1:]) == {403}


@pytest.mark.parametrize("loop", LOOPS)
def test_a_twitterbot_still_gets_an_artwork_page_with_its_open_graph_tags(
    loop: str, store: dict[str, Any]
) -> None:
    with demo(loop, **store) as url:
        page = httpx.get(f"{url}/artworks/7", headers={"User-Agent": TWITTERBOT}, timeout=5)
        assert page.status_code == 200
        assert '<meta property="og:title"' in page.text
        assert '<meta property="og:type" content="article">' in page.text
        robots = httpx.get(f"{url}/robots.txt", headers={"User-Agent": TWITTERBOT}, timeout=5)
        assert robots.status_code == 200
        health = httpx.get(f"{url}/healthz", headers={"User-Agent": "UptimeRobot/2.0"}, timeout=5)
        assert health.status_code == 200


@pytest.mark.parametrize("loop", LOOPS)
def test_unverified_bots_are_limited_per_network(loop: str, store: dict[str, Any]) -> None:
    """Pages too, within a strict budget per /24: past it, 429 with Retry-After."""
    fingerprint = {"unverified_bot_limit": 5}
    with demo(loop, fingerprint=fingerprint, **store) as url:
        # the limit's window is fixed, multiples of 600 s since the epoch: 8 requests clear of
        # its end (one run's straddled it, 0.1 s before it, and failed)
        wait_for_room(20.0, 600.0)
        agents = ["Discordbot/2.0", "Slackbot-LinkExpanding 1.0", "WhatsApp/2.23", TWITTERBOT]
        statuses = [
            httpx.get(f"{url}/artworks/{n}", headers={"User-Agent": agents[n % 4]}, timeout=5)
            for n in range(1, 9)
        ]
        assert [r.status_code for r in statuses] == [200] * 5 + [429] * 3
        assert int(statuses[-1].headers["retry-after"]) > 0


async def test_an_operator_allowed_agent_may_take_originals() -> None:
    shield = Shield(Settings(fingerprint={"allow_agents": ["Twitterbot"]}))
    facts = shield.facts(
        synthetic_scope(path="/images/3.png", headers=[("user-agent", TWITTERBOT)])
    )
    decision = await shield.decide(facts)
    assert decision.action is Action.ALLOW
    assert not [s for s in decision.reasons if s.name.startswith("bot/unverified/")]
    await shield.aclose()


async def test_a_verifiable_bot_is_not_judged_here() -> None:
    """Googlebot can be verified: from a foreign address it is spoofed, never 'unverified'."""
    shield = Shield(Settings())
    ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    facts = shield.facts(synthetic_scope(path="/images/3.png", headers=[("user-agent", ua)]))
    decision = await shield.decide(facts)
    assert decision.rule == "spoofed-crawler"
    assert not [s for s in decision.reasons if s.name.startswith("bot/unverified/")]
    await shield.aclose()
