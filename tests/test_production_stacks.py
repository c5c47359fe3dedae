"""The demo on a Redis store, served the way sites run it: every ASGI server and event loop.

Each stack runs as its own process (`uvicorn`, `hypercorn`, `granian`), as a deployment would,
with the store named by `SCRAPESHIELD_STORE_URL`. Every request must answer within a deadline
(the uvloop hang of issue 12 answered none), and the server must stop cleanly on SIGTERM.
Then faults are injected inside the store's exchange with Redis (redis-py's reading of a reply
raises or hangs) under a real server on both loops: the request still answers, within the store's
timeout, as fail_mode says.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio.connection import AbstractConnection
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from scrapeshield import Settings
from tests.browsers import chrome
from tests.servers import (
    LOADED_STORE_ENV,
    LOOPS,
    RedisServer,
    closing_app,
    free_port,
    serve,
    wait_for_port,
    wait_for_status,
)

pytestmark = pytest.mark.slow

APP = "scrapeshield.demo.app:create_app"
TARGET = {  # how each server is told to call the app factory
    "uvicorn": ["--factory", APP],
    "hypercorn": [f"{APP}()"],
    "granian": ["--interface", "asgi", "--factory", APP],
}
STACKS: dict[str, list[str]] = {
    "uvicorn-h11-asyncio": ["uvicorn", "--loop", "asyncio", "--http", "h11"],
    "uvicorn-httptools-uvloop": ["uvicorn", "--loop", "uvloop", "--http", "httptools"],
    "uvicorn-auto": ["uvicorn"],
    "hypercorn-asyncio": ["hypercorn", "-k", "asyncio"],
    "hypercorn-uvloop": ["hypercorn", "-k", "uvloop"],
    "granian-asyncio": ["granian", "--loop", "asyncio"],
    "granian-uvloop": ["granian", "--loop", "uvloop"],
}


def _bind(tool: str, port: int) -> list[str]:
    if tool == "uvicorn":
        return ["--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"]
    if tool == "hypercorn":
        return ["--bind", f"127.0.0.1:{port}"]
    return ["--host", "127.0.0.1", "--port", str(port)]


@pytest.fixture
def served(
    request: pytest.FixtureRequest, redis_url: str, redis_prefix: str, tmp_path: Path
) -> Iterator[str]:
    stack: str = request.param
    tool, *args = STACKS[stack]
    port = free_port()
    env = {
        **os.environ,
        "SCRAPESHIELD_STORE_URL": redis_url,
        "SCRAPESHIELD_STORE_PREFIX": redis_prefix,
        **LOADED_STORE_ENV,
        "SCRAPESHIELD_CHALLENGE__SECRET_KEYS": '["stack-test-key-0123456789abcdef0123"]',
    }
    command = [sys.executable, "-m", tool, *args, *_bind(tool, port), *TARGET[tool]]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)  # a request stuck forever would hold the shutdown here
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"{stack} did not stop within 10 s of SIGTERM") from None
    output = log.read_text(errors="replace")
    assert "Traceback" not in output, output


@pytest.mark.parametrize("served", list(STACKS), indirect=True)
def test_the_demo_answers_on_every_stack(served: str) -> None:
    with httpx.Client(base_url=served, timeout=5.0) as client:  # a hang fails, it never waits
        page = client.get("/artworks/7", headers=chrome())
        assert page.status_code == 200, page.text[:300]
        assert client.get("/robots.txt").status_code == 200
        tool = client.get("/artworks/8", headers={"User-Agent": "python-requests/2.32.3"})
        assert tool.status_code == 403
        # concurrent requests share coalesced pipelines: all of them answer
        with httpx.Client(base_url=served, timeout=5.0) as other:
            statuses = {other.get(f"/artworks/{n}", headers=chrome()).status_code for n in range(9)}
        assert statuses == {200}


async def ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _raise(self: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected inside the store's exchange")


async def _hang(self: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
    await asyncio.sleep(3600)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("fault", ["raise", "hang"])
@pytest.mark.parametrize(("fail_mode", "status"), [("open", 200), ("closed", 503)])
def test_a_fault_inside_the_store_still_answers_within_its_timeout(
    own_redis: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
    loop: str,
    fault: str,
    fail_mode: str,
    status: int,
) -> None:
    timeout = 0.3
    settings = Settings(
        store_url=own_redis.url, store_timeout=timeout, breaker_cooldown=30, fail_mode=fail_mode
    )
    app = closing_app(settings, [Route("/", ok)])
    with (
        serve(app, lifespan="on", loop=loop) as server,
        httpx.Client(base_url=server.url, timeout=5.0) as client,
    ):
        # healthy first (polled: a loaded machine's first call may fail once)
        wait_for_status(lambda: client.get("/", headers=chrome()), 200, timeout=10)
        fault_in = _raise if fault == "raise" else _hang
        reached = 0  # calls that got as far as a connection's read

        async def counted(self: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
            nonlocal reached
            reached += 1
            return await fault_in(self, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "read_response", counted)
        for _ in range(2):  # a moment's failure is tolerated: failing for a timeout is not
            started = time.monotonic()
            response = client.get("/", headers=chrome())
            elapsed = time.monotonic() - started
            assert response.status_code == status
            assert elapsed < timeout + 1.0, f"answered after {elapsed:.2f}s"
            if fault == "raise":
                time.sleep(timeout)  # a raise fails at once: keep failing for the timeout
        # the breaker is open now: the next request does not touch Redis, so it cannot wait on
        # it (counted, not timed: one HTTP request alone may take a timeout on a loaded machine)
        assert reached > 0
        before = reached
        started = time.monotonic()
        assert client.get("/", headers=chrome()).status_code == status
        assert reached == before
        assert time.monotonic() - started < timeout + 1.0
        monkeypatch.undo()
