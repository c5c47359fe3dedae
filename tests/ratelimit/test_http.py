"""Real HTTP through uvicorn: headers on the app's responses and on 429s; Redis down is no 500."""

from __future__ import annotations

import httpx
import pytest

from scrapeshield import Settings
from scrapeshield.demo.app import create_app
from scrapeshield.ratelimit.settings import DEFAULT_GROUPS
from tests.browsers import chrome
from tests.ratelimit.helpers import UA
from tests.servers import RedisServer, serve

pytestmark = pytest.mark.slow


def _settings(**store: str) -> Settings:
    return Settings(
        **store,
        ratelimit={
            "strategy": "fixed-window",
            "groups": {
                "default": {"limits": "3/minute", "headers": True},
                "images": {  # the default route group /images/*
                    "limits": "100/minute",
                    "cost": 40,
                    "headers": True,
                },
                "api": {  # the default route group /api/*
                    "limits": "1/minute",
                    "action": "block",
                    "headers": True,
                },
            },
            "exempt": ["/healthz"],
            "legacy_headers": True,
        },
    )


def test_headers_on_responses_and_429() -> None:
    with (
        serve(create_app(_settings())) as server,
        httpx.Client(
            base_url=server.url, headers={"user-agent": UA, "accept": "application/json"}
        ) as client,
    ):
        for left in (2, 1, 0):
            response = client.get("/terms")
            assert response.status_code == 200
            assert response.headers["ratelimit"].startswith(f'"default-client-3-60s";r={left};t=')
            assert response.headers["ratelimit-policy"] == '"default-client-3-60s";q=3;w=60'
            assert response.headers["x-ratelimit-remaining"] == str(left)
            assert "retry-after" not in response.headers
        limited = client.get("/terms")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 61
        assert limited.headers["ratelimit"].startswith('"default-client-3-60s";r=0;t=')
        assert limited.headers.get_list("ratelimit") == [limited.headers["ratelimit"]]
        assert limited.json()["retry_after"] == int(limited.headers["retry-after"])
        # Other groups have their own counters; cost 40 of 100 admits two originals.
        assert (
            client.get("/images/1.png")
            .headers["ratelimit"]
            .startswith('"images-client-100-60s";r=60;')
        )
        assert client.get("/images/1.png").status_code == 200
        assert client.get("/images/1.png").status_code == 429
        # A group that blocks: 403 with the RateLimit fields, and no Retry-After (429/503 only).
        assert client.get("/api/artworks").status_code == 200
        blocked = client.get("/api/artworks")
        assert blocked.status_code == 403
        assert blocked.headers["ratelimit"].startswith('"api-client-1-60s";r=0;t=')
        assert "retry-after" not in blocked.headers
        health = client.get("/healthz")
        assert health.status_code == 200
        assert "ratelimit" not in health.headers


def test_page_and_image_groups_send_no_pacing_fields_by_default() -> None:
    """A scraper paces itself by RateLimit: the shipped page and image groups send none, the
    api group does, and a 429 still says Retry-After."""
    settings = Settings(ratelimit={"groups": {**DEFAULT_GROUPS, "default": {"limits": "2/day"}}})
    with (
        serve(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=chrome()) as client,
    ):
        for path in ("/terms", "/images/1.png"):
            response = client.get(path)
            assert response.status_code == 200
            assert "ratelimit" not in response.headers
            assert "ratelimit-policy" not in response.headers
        api = client.get("/api/artworks")
        assert api.headers["ratelimit-policy"].startswith('"api-client-30-10s"')
        client.get("/terms")
        limited = client.get("/terms")
        assert limited.status_code == 429
        assert "retry-after" in limited.headers
        assert "ratelimit" not in limited.headers


def test_redis_down_is_never_a_500() -> None:
    redis = RedisServer.start()
    app = create_app(_settings(store_url=redis.url, store_timeout="0.2"))
    try:
        with (
            serve(app, lifespan="on") as server,  # the app closes its store on shutdown
            httpx.Client(base_url=server.url, headers={"user-agent": UA}) as client,
        ):
            assert client.get("/terms").status_code == 200
            redis.stop()
            for _ in range(5):
                response = client.get("/terms")
                assert response.status_code == 200
                assert "ratelimit" not in response.headers
    finally:
        redis.close()
