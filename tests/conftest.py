"""Shared fixtures: a real redis-server on a free port, stores for the contract suite, settings.

A Redis test that cannot reach Redis fails: if no server URL is given in SCRAPESHIELD_TEST_REDIS_URL
and `redis-server` is not installed, the fixture raises instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator

import pytest

from scrapeshield.store import MemoryStore, RedisStore, Store
from tests.servers import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the whole session (tests use distinct key prefixes)."""
    url = os.environ.get("SCRAPESHIELD_TEST_REDIS_URL")
    if url:
        yield RedisServer.external(url)
        return
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed: run scripts/test, which installs it")
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server this test may pause, stop or restart without disturbing the others."""
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def redis_prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix unique to the test, so tests sharing the server never see each other's keys."""
    return f"t:{request.node.nodeid}:"


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest, redis_server: RedisServer, redis_prefix: str
) -> AsyncIterator[Store]:
    """Each contract test runs once on the memory store and once on a real Redis."""
    if request.param == "memory":
        backend: Store = MemoryStore(max_keys=1000, max_events=100)
    else:
        backend = RedisStore(redis_server.url, prefix=redis_prefix, max_events=100, timeout=2.0)
    try:
        yield backend
    finally:
        await backend.aclose()
