"""Shared fixtures: a real redis-server on a free port, stores for the contract suite, settings.

A Redis test that cannot reach Redis fails: if no server URL is given in SCRAPESHIELD_TEST_REDIS_URL
and `redis-server` is not installed, the fixture raises instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from typing import Any

import httpx
import pytest
import uvloop

from scrapeshield.store import MemoryStore, RedisStore, Store
from tests.servers import LOADED_STORE_TIMEOUT, RedisClusterServers, RedisServer
from tests.windows import wait_for_room

LOOP_FACTORIES: Mapping[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_loops: run each async test on asyncio and on uvloop (tests.servers.LOOPS)"
    )
    config.addinivalue_line(
        "markers",
        "clock_hour(seconds=30): the test counts identity's hourly budgets or an hour limit on"
        " the real clock; it starts once the clock hour has `seconds` left (tests/windows.py)",
    )


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Tests marked `both_loops` (the stores, the breaker) run once per production event loop;
    the others on asyncio alone (a single factory adds nothing to the test's id)."""
    if item.get_closest_marker("both_loops"):
        return LOOP_FACTORIES
    return {"asyncio": asyncio.new_event_loop}


CLOCK_HOUR_STARTED = pytest.StashKey[float]()


@pytest.fixture(autouse=True)
def _room_in_the_clock_hour(request: pytest.FixtureRequest) -> None:
    """Identity's budgets count by clock hour (sliding into the next, floored), as do hour
    limits: a test that counts exactly up to one on the real clock is marked `clock_hour` (its
    module's `pytestmark`) and, starting in the hour's last `seconds`, waits into the next hour
    (tests/windows.py; at most 30 s once an hour). The others do not wait: one that fails
    after running across an hour's edge says so in its report (pytest_runtest_makereport)."""
    marker = request.node.get_closest_marker("clock_hour")
    if marker is not None:
        wait_for_room(float(marker.kwargs.get("seconds", 30.0)), 3600.0)
    request.node.stash[CLOCK_HOUR_STARTED] = time.time()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test without the `clock_hour` mark that ran across a clock hour's edge: say so
    in its report, so that a test that counts hourly budgets and lacks the mark is found."""
    report = yield
    started = item.stash.get(CLOCK_HOUR_STARTED, None)
    across = started is not None and started // 3600 != time.time() // 3600
    if report.failed and across and not item.get_closest_marker("clock_hour"):
        report.sections.append(
            (
                "clock hour",
                "this test ran across a clock hour's edge without the clock_hour mark: if it"
                " counts identity's hourly budgets or an hour limit on the real clock, mark"
                " its module `pytestmark = pytest.mark.clock_hour` (tests/conftest.py)",
            )
        )
    return report


@pytest.fixture(scope="session", autouse=True)
def _one_tls_context() -> Iterator[None]:
    """Every httpx client builds an SSL context and loads certifi's CA bundle into it (~40 ms
    here) though the tests only speak plain HTTP on loopback: ~250 clients in one adversary test
    spent most of its 9 s so. The clients of the test process share one default context
    (httpx.create_ssl_context's own); a client given its own verify or cert gets its own."""
    shared = httpx.create_ssl_context()

    def create(
        verify: ssl.SSLContext | str | bool = True, cert: Any = None, trust_env: bool = True
    ) -> ssl.SSLContext:
        if verify is True and cert is None and trust_env:
            return shared
        return httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("httpx._transports.default.create_ssl_context", create)
        yield


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
        backend = RedisStore(
            redis_server.url, prefix=redis_prefix, max_events=100, timeout=LOADED_STORE_TIMEOUT
        )
    try:
        yield backend
    finally:
        await backend.aclose()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServers]:
    """One real 3-primary Redis Cluster for the tests that share it (distinct key prefixes)."""
    servers = RedisClusterServers.start()
    try:
        yield servers
    finally:
        servers.stop()
