"""A client spread over two real uvicorn workers sharing one real Redis, with leases on: each
worker's lease is reserved in the shared counts at its grant, so the limit is enforced at
exactly its request, whichever worker answers (docs/leases.md, across workers)."""

from __future__ import annotations

import itertools
import time

import pytest
import redis

from tests.servers import LOOPS
from tests.test_workers import fetch, one_connection_per_worker, settings_for, workers

pytestmark = pytest.mark.slow
LIMIT = 100
CLIENT = "198.51.100.7"


@pytest.mark.parametrize("loop", LOOPS)
def test_a_client_over_two_workers_is_refused_at_exactly_the_limit(
    loop: str, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{loop}:"
    settings = settings_for(redis_url, prefix)
    # a day's limit: all within one bucket (across a window's end the sliding window weighs
    # the previous bucket's count below it, and one more request is rightly admitted)
    settings["ratelimit"] = {"groups": {"default": {"limits": f"{LIMIT}/day"}}}
    settings["lease"] = {"enabled": True}
    with workers(2, loop, settings) as base, one_connection_per_worker(base) as clients:
        turn = itertools.cycle(clients)  # the two workers in turn
        # leased while 32 requests' room (4 leases of 8) stays unreserved: the first ~60
        first = [fetch(next(turn), "/artworks/1", CLIENT) for _ in range(70)]
        assert {r.status_code for r in first} == {200}
        # a person's pause: every reservation left unused is given back (a lease lasts 1 s
        # and the sweep runs every 1 s), until the shared count is the requests served; a
        # loaded machine's sweep may run late, so the wait is for that, with a deadline
        deadline = time.monotonic() + 30
        while _counted(redis_url, prefix) != 70:
            assert time.monotonic() < deadline, "reservations not given back within 30 s"
            time.sleep(0.1)
        last = [fetch(next(turn), "/artworks/1", CLIENT) for _ in range(35)]
        assert [r.status_code for r in last] == [200] * (LIMIT - 70) + [429] * 5
    answers = first + last
    assert len({r.headers["x-worker"] for r in answers}) == 2
    leased: dict[str, int] = {}
    for r in answers:
        worker = r.headers["x-worker"]
        leased[worker] = max(leased.get(worker, 0), int(r.headers["x-leased"]))
    assert sum(leased.values()) >= 10, leased  # leases were granted and used
    # the shared count is exactly the requests served (both workers shut down)
    assert _counted(redis_url, prefix) == LIMIT


def _counted(redis_url: str, prefix: str) -> int:
    """The client's shared count in Redis: requests served plus reservations not given back."""
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = [  # this client's (the probes that found the workers count for their own)
            k for k in raw.scan_iter(f"*rl:client:default:*{CLIENT}*") if k.startswith(prefix)
        ]
        return sum(int(raw.get(k) or 0) for k in keys)
    finally:
        raw.close()
