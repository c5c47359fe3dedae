"""The demo app (`create_app`, what `scrapeshield demo` serves) closes its store on shutdown: no
Redis connection outlives the server (an unclosed one warns at GC, in whatever runs next)."""

from __future__ import annotations

import time

import httpx
import pytest
import redis

from scrapeshield import ScrapeShield, Settings
from scrapeshield.demo.app import create_app, create_gallery
from tests.browsers import chrome
from tests.servers import LOOPS, RedisServer, redis_store_settings, serve


def clients(admin: redis.Redis) -> int:
    """Connections the server holds, the admin's own excluded."""
    return len(admin.client_list()) - 1


def clients_after_close(admin: redis.Redis, deadline: float = 2.0) -> int:
    """`clients` once the server has seen the closed connections go (it reads a client's close
    on its next turn: a loaded machine showed one still listed just after the app stopped), or
    when `deadline` seconds have passed. A connection left open stays: the app, and the store
    it holds, are alive in the test, so a leak is still counted."""
    end = time.monotonic() + deadline
    while (held := clients(admin)) and time.monotonic() < end:
        time.sleep(0.02)
    return held


@pytest.mark.parametrize("loop", LOOPS)
def test_the_demo_closes_its_redis_connections_on_shutdown(
    own_redis: RedisServer, loop: str
) -> None:
    app = create_app(Settings(**redis_store_settings(own_redis.url)))
    with redis.Redis.from_url(own_redis.url) as admin:
        with serve(app, lifespan="on", loop=loop) as server:
            response = httpx.get(server.url + "/artworks/3", headers=chrome())
            assert response.status_code == 200
            assert clients(admin) >= 1  # the store is connected
        assert clients_after_close(admin) == 0


@pytest.mark.parametrize("loop", LOOPS)
def test_a_middleware_built_from_settings_closes_its_store_on_shutdown(
    own_redis: RedisServer, loop: str
) -> None:
    """`app.add_middleware(ScrapeShield, settings=...)`, nothing else wired: the middleware owns
    its Shield and closes the store when the app's lifespan ends."""
    app = create_gallery()
    app.add_middleware(ScrapeShield, settings=Settings(**redis_store_settings(own_redis.url)))
    with redis.Redis.from_url(own_redis.url) as admin:
        with serve(app, lifespan="on", loop=loop) as server:
            response = httpx.get(server.url + "/artworks/3", headers=chrome())
            assert response.status_code == 200
            assert clients(admin) >= 1
        assert clients_after_close(admin) == 0
