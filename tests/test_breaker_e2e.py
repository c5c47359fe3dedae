"""Redis dies under a running site and comes back: no 5xx when failing open, 503 when closed,
one log line per breaker state change, and enforcement resumes without restarting the app."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from scrapeshield import Settings, Shield
from tests.browsers import chrome
from tests.servers import LOOPS, RedisServer, closing_app, serve, wait_for_status

pytestmark = pytest.mark.slow

BANNED = "198.51.100.7"
OTHER = "192.0.2.10"


async def ok(request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


def settings_for(server: RedisServer, fail_mode: str) -> Settings:
    return Settings(
        store_url=server.url,
        store_timeout=0.2,
        breaker_cooldown=0.3,
        fail_mode=fail_mode,
        trusted_proxies=["127.0.0.1/32"],  # lets the test pick the client with X-Forwarded-For
    )


def ban_and_persist(server: RedisServer, settings: Settings) -> None:
    """Ban BANNED through the public API, then SAVE so the ban survives the restart."""

    async def ban() -> None:
        shield = Shield(settings)
        try:
            await shield.ban(BANNED, 600, reason="test")
        finally:
            await shield.aclose()

    asyncio.run(ban())
    admin = redis.Redis.from_url(server.url)
    try:
        admin.save()
    finally:
        admin.close()


def get(client: httpx.Client, ip: str) -> httpx.Response:
    return client.get("/", headers={**chrome(), "x-forwarded-for": ip})


def breaker_messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "scrapeshield" and text in r.msg]


def app_for(settings: Settings) -> Starlette:
    app: Starlette = closing_app(settings, [Route("/", ok)])
    return app


@pytest.mark.parametrize("loop", LOOPS)
def test_fail_open_outage_and_recovery(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture, loop: str
) -> None:
    caplog.set_level(logging.WARNING, logger="scrapeshield")
    settings = settings_for(own_redis, "open")
    ban_and_persist(own_redis, settings)
    app = app_for(settings)
    with (
        serve(app, lifespan="on", loop=loop) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        # (polled: a loaded machine's first call, connection and script, may take longer than
        # the 0.2 s timeout and fail open once; one slow call does not open the breaker)
        wait_for_status(lambda: get(client, BANNED), 403)
        assert get(client, OTHER).status_code == 200

        own_redis.stop()
        statuses = [get(client, ip).status_code for _ in range(15) for ip in (BANNED, OTHER)]
        assert set(statuses) == {200}  # fail open: the ban cannot be read, nobody gets a 5xx
        time.sleep(0.4)  # past the cooldown: half-open probes fail and re-open quietly
        assert {get(client, ip).status_code for ip in (BANNED, OTHER)} == {200}
        assert len(breaker_messages(caplog, "unavailable")) == 1

        own_redis.restart()
        wait_for_status(lambda: get(client, BANNED), 403)  # the ban is enforced again, same app
        assert get(client, OTHER).status_code == 200
    assert len(breaker_messages(caplog, "unavailable")) == 1
    assert len(breaker_messages(caplog, "available again")) == 1


@pytest.mark.parametrize("loop", LOOPS)
def test_fail_closed_outage_answers_503_then_recovers(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture, loop: str
) -> None:
    caplog.set_level(logging.WARNING, logger="scrapeshield")
    settings = settings_for(own_redis, "closed")
    app = app_for(settings)
    with (
        serve(app, lifespan="on", loop=loop) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        wait_for_status(lambda: get(client, OTHER), 200)  # (polled, as above)

        own_redis.stop()
        for _ in range(10):
            response = get(client, OTHER)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"  # ceil(breaker_cooldown=0.3)
        time.sleep(0.25)  # refused for longer than store_timeout (0.2 s): the breaker opens
        assert get(client, OTHER).status_code == 503
        assert len(breaker_messages(caplog, "unavailable")) == 1

        own_redis.restart()
        wait_for_status(lambda: get(client, OTHER), 200)
    assert len(breaker_messages(caplog, "available again")) == 1
