"""Several uvicorn worker processes sharing one Redis enforce one limit, one budget and one ban
list: whichever worker answers, the count is the same."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

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


@contextlib.contextmanager
def one_connection_per_worker(base: str, deadline: float = 30.0) -> Iterator[list[httpx.Client]]:
    """Keep-alive clients, each on a connection a different worker accepted (told by the
    answer's `x-worker`). Requests sent one at a time over new connections may all be accepted
    by the worker that answered last (it is back in accept first), so a test spreads its
    requests over these instead. Connections are opened eight at a time until two workers hold
    one; the probes count for addresses of their own."""
    held: dict[str, httpx.Client] = {}
    spare: list[httpx.Client] = []
    try:
        ends, probe = time.monotonic() + deadline, 0
        while len(held) < 2:
            assert time.monotonic() < ends, f"one worker accepted every connection: {set(held)}"
            batch = [httpx.Client(base_url=base, timeout=10) for _ in range(8)]
            with ThreadPoolExecutor(len(batch)) as pool:
                answers = list(
                    pool.map(
                        fetch,
                        batch,
                        ["/artworks/3"] * 8,
                        [f"203.0.113.{probe + n}" for n in range(8)],
                    )
                )
            probe += 8
            for client, answer in zip(batch, answers, strict=True):
                if answer.headers["x-worker"] in held:
                    spare.append(client)
                else:
                    held[answer.headers["x-worker"]] = client
        yield list(held.values())
    finally:
        for client in [*held.values(), *spare]:
            client.close()


def fetch(client: httpx.Client, path: str, address: str) -> httpx.Response:
    return client.get(path, headers={"X-Forwarded-For": address, "User-Agent": CHROME})


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("loop", LOOPS)
def test_workers_share_one_limit_one_budget_and_one_ban_list(
    count: int, loop: str, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{count}{loop}:"
    with (
        workers(count, loop, settings_for(redis_url, prefix)) as base,
        one_connection_per_worker(base) as clients,
    ):
        # each request goes over the next worker's connection in turn, so consecutive requests
        # of one client are counted by different processes
        turn = itertools.cycle(clients)

        # one limit: ten page views a day for one address, whichever worker counts them (a
        # day, not a minute: across a window's end the sliding window weighs the first bucket's
        # ten below ten, and the eleventh is rightly admitted)
        limit = [fetch(next(turn), "/artworks/1", "198.51.100.1") for _ in range(14)]
        assert [r.status_code for r in limit] == [200] * 10 + [429] * 4

        # one budget: six distinct originals an hour for one visitor, then a challenge (and past
        # the refuse mark a decoy: a 200 without the original's bytes)
        answers = [fetch(next(turn), f"/images/{n}.png", "198.51.100.2") for n in range(1, 13)]
        got = [r.status_code == 200 and r.content == png(n) for n, r in enumerate(answers, 1)]
        assert got == [True] * 6 + [False] * 6, [r.status_code for r in answers]

        # one ban list: a ban written once is refused by every worker
        asyncio.run(ban(redis_url, prefix, "198.51.100.3"))
        banned = [fetch(next(turn), "/artworks/2", "198.51.100.3") for _ in range(12)]
        assert {r.status_code for r in banned} == {403}

        # each of the three was answered by more than one process (a keep-alive connection the
        # server closed is opened again by its client, maybe to another worker: still counted)
        for answered in (limit, answers, banned):
            assert len({r.headers["x-worker"] for r in answered}) >= 2


async def ban(redis_url: str, prefix: str, address: str) -> None:
    shield = Shield(Settings(**redis_store_settings(redis_url, prefix)))
    try:
        await shield.ban(address, 600, reason="test")
    finally:
        await shield.aclose()
