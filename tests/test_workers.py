"""Several uvicorn worker processes sharing one Redis enforce one limit, one budget and one ban
list: whichever worker answers, the count is the same."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from scrapeshield import Settings, Shield
from scrapeshield.demo.art import png
from tests.servers import LOOPS, free_port, redis_store_settings, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.clock_hour]
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


@contextlib.contextmanager
def workers(count: int, loop: str, settings: dict[str, object]) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "tests.worker_app:create", "--factory",
        "--workers", str(count), "--loop", loop, "--host", "127.0.0.1", "--port", str(port),
        "--no-proxy-headers", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "SCRAPESHIELD_TEST_SETTINGS": json.dumps(settings)}
    process = subprocess.Popen(command, env=env)
    try:
        wait_for_port(port, timeout=30, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


def settings_for(redis_url: str, prefix: str) -> dict[str, object]:
    return {
        **redis_store_settings(redis_url, prefix),  # exact counts: no fail-open
        "trusted_proxies": ["127.0.0.1"],
        "challenge": {"secret_keys": ["workers-test-key-0123456789"]},
        "fingerprint": {"enabled": False},
        "behaviour": {"enabled": False},
        "ratelimit": {"groups": {"default": {"limits": "10/day"}}},
        "identity": {"budgets": {"visitor": {"hour": 6, "day": 50}}},
    }


def fetch(base: str, path: str, address: str) -> httpx.Response:
    """A new connection per request, so the kernel spreads them over the workers."""
    with httpx.Client(base_url=base, timeout=10) as client:
        return client.get(path, headers={"X-Forwarded-For": address, "User-Agent": CHROME})


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("loop", LOOPS)
def test_workers_share_one_limit_one_budget_and_one_ban_list(
    count: int, loop: str, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{count}{loop}:"
    with workers(count, loop, settings_for(redis_url, prefix)) as base:
        answered_by: set[str] = set()

        # one limit: ten page views a day for one address, whichever worker counts them (a
        # day, not a minute: across a window's end the sliding window weighs the first bucket's
        # ten below ten, and the eleventh is rightly admitted)
        limit = [fetch(base, "/artworks/1", "198.51.100.1") for _ in range(14)]
        answered_by |= {r.headers["x-worker"] for r in limit}
        assert [r.status_code for r in limit] == [200] * 10 + [429] * 4

        # one budget: six distinct originals an hour for one visitor, then a challenge (and past
        # the refuse mark a decoy: a 200 without the original's bytes)
        answers = [fetch(base, f"/images/{n}.png", "198.51.100.2") for n in range(1, 13)]
        answered_by |= {r.headers["x-worker"] for r in answers}
        got = [r.status_code == 200 and r.content == png(n) for n, r in enumerate(answers, 1)]
        assert got == [True] * 6 + [False] * 6, [r.status_code for r in answers]

        # one ban list: a ban written once is refused by every worker
        asyncio.run(ban(redis_url, prefix, "198.51.100.3"))
        banned = [fetch(base, "/artworks/2", "198.51.100.3") for _ in range(12)]
        answered_by |= {r.headers["x-worker"] for r in banned}
        assert {r.status_code for r in banned} == {403}

        # the requests above were answered by more than one process
        others = [fetch(base, "/artworks/3", f"203.0.113.{n}") for n in range(1, 21)]
        answered_by |= {r.headers["x-worker"] for r in others}
        assert len(answered_by) >= 2, answered_by


async def ban(redis_url: str, prefix: str, address: str) -> None:
    shield = Shield(Settings(**redis_store_settings(redis_url, prefix)))
    try:
        await shield.ban(address, 600, reason="test")
    finally:
        await shield.aclose()
