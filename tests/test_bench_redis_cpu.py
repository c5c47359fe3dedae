"""benchmarks/bench_redis_cpu.py `--clients`: the rate limiter's script over a keyspace of many
clients, on a real redis-server of the test's own."""

from __future__ import annotations

import redis
from benchmarks.bench_redis_cpu import many_clients

from tests.servers import RedisServer


def test_many_clients_times_the_rate_limit_script_as_the_keyspace_builds(
    own_redis: RedisServer,
) -> None:
    first, again = many_clients(own_redis.url, 300, rounds=1, step=100)
    assert len(first) == len(again) == 3
    assert all(used > 0 for used in (*first, *again))
    with redis.Redis.from_url(own_redis.url, decode_responses=True) as client:
        keys = list(client.scan_iter("*rl:client:*"))
        # each client's own counters: its two windows (the 10 s one in its current bucket)
        assert len({key.split("{")[1].split("}")[0] for key in keys}) == 300
