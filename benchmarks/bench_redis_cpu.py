"""Redis server CPU and commands per request, per script, in process (no HTTP).

.venv/bin/python -m benchmarks.bench_redis_cpu [--requests 2000] [--rounds 3] [--concurrency 1]
    [--cluster]

Starts its own redis-server, then runs `shield.decide()` with every defence as in
`benchmarks/apps.py` (limits and scores out of reach) for three kinds of request, one kind at
a time: a Chrome link click to an artwork page (the load of `benchmarks/run.py`), an original
image fetched from that page, and originals each new to their address (a distinct count that
grows). Each request comes from one of 200 addresses (as a crowd of visitors would), after
one warm-up request per address. Between kinds `CONFIG RESETSTAT` clears the server's
counters; `INFO commandstats` then gives each command's calls and CPU µs.
EVALSHA's µs include the commands its script runs; those inner commands are listed by name
(their µs are part of the script's). To split the scripts' µs by component, every script call
is recorded and replayed on a second, fresh redis-server one component at a time (warm-up calls
first, then `CONFIG RESETSTAT`, then the measured ones). Figures vary with the machine; the
counts do not. On a shared machine another process's turn inflates a run's CPU figures (never
deflates them), so each measurement runs `--rounds` times and the least is printed.
`--key-touches` measures instead what a script's keys cost on a server holding 200,000 small
HyperLogLogs (a busy site's budgets): ten `PFCOUNT`s of ten distinct keys, of one key ten
times, one `MGET` of the ten, and the empty call with the same ten keys, each pipelined 3,000
times with keys drawn at random (least of 5 rounds); then, on a server holding 100,000
clients' rate-limit counters in both layouts, the rate limit's reads and writes of a request
as keys of their own (as shipped) against one hash per client and per network.
`--requests` does not apply to it.
`--clients 100000` measures instead the rate limiter's script alone (hit.lua as the limiter calls
it for a page, `apps`' limits) over a keyspace of that many clients as it builds: server µs a
call for each 10,000 clients' first calls, and for 3,000 calls of clients already seen after
each (least of `--rounds`).
`--concurrency 16` decides 16 requests (of 16 addresses) at a time, as a loaded server does: their
script calls share each tick's one combined call (its time and parsed limits too), so the
figures are those of a busy site rather than of one request alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis

from benchmarks import apps
from benchmarks.bench_ratelimit import redis_server
from benchmarks.run import BROWSER_HEADERS, redis_cpu
from scrapeshield import Shield
from scrapeshield.behaviour.script import SCRIPT as BEHAVIOUR
from scrapeshield.facts import FactsBuilder
from scrapeshield.identity.ops import SCRIPT as IDENTITY
from scrapeshield.ratelimit.backends import HIT_SCRIPT, RedisLimiter
from scrapeshield.ratelimit.plan import Planner
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import RedisStore, combine
from scrapeshield.store.soon import Soon

COMPONENTS = {
    HIT_SCRIPT: "ratelimit",
    IDENTITY: "identity",
    BEHAVIOUR: "behaviour",
    combine.GET: "reads",  # the ban and trap flags, where no script reads them
}
T = TypeVar("T")
Call = tuple[str, list[str], list[Any], bool]  # script, prefixed keys, args, measured?


class RecordingStore(RedisStore):
    """Records each script call (for the per-component replay) as it sends it."""

    calls: list[Call]
    measuring = False

    def submit_script(self, source: str, keys: list[str], args: list[Any]) -> Awaitable[Any]:
        self.calls.append((source, [self.prefix + k for k in keys], list(args), self.measuring))
        return super().submit_script(source, keys, args)

    def queue_script(
        self, source: str, keys: list[str], args: list[Any], then: Callable[[Any], T]
    ) -> Soon[T]:
        """(the request path's scripts and reads: `queue_get` queues the GET script here)"""
        self.calls.append((source, [self.prefix + k for k in keys], list(args), self.measuring))
        return super().queue_script(source, keys, args, then)


_ADMIN = {"evalsha", "script|load", "config|resetstat", "flushall"}
ADDRESSES = [f"198.51.{n // 100}.{n % 100 + 1}" for n in range(200)]


def _headers(image: bool) -> list[tuple[str, str]]:
    pairs = [tuple(h.split(": ", 1)) for h in BROWSER_HEADERS]
    if not image:
        return [(k, v) for k, v in pairs]
    # what Chrome sends for an <img> on the page (no navigation headers)
    drop = {"upgrade-insecure-requests", "sec-fetch-user", "accept", "sec-fetch-mode",
            "sec-fetch-dest", "referer"}  # fmt: skip
    out = [(k, v) for k, v in pairs if k not in drop]
    out += [
        ("accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
        ("sec-fetch-mode", "no-cors"),
        ("sec-fetch-dest", "image"),
        ("referer", "http://127.0.0.1/artworks/7"),
    ]
    return out


KINDS = {
    "page view": ("/artworks/7", False),
    "original image": ("/images/7.png", True),
    # each request a work its address has not taken before (a scraper's, or a person's first
    # view of each): every budget's distinct count grows
    "new original": ("/images/{n}.png", True),
    # each request a visitor never seen before (a new address, no token: issued one), as a
    # quarter of the paced mix's people are: nothing trusted, every key created
    "new visitor page": ("/artworks/7", False),
}
NEW_VISITORS = {"new visitor page"}


Stats = dict[str, tuple[int, int]]  # command -> (calls, µs)


async def measure(
    url: str, requests: int, rounds: int = 1, concurrency: int = 1
) -> tuple[dict[str, tuple[float, float, Stats]], dict[str, list[Call]]]:
    os.environ["BENCH_STORE_URL"] = url
    settings = apps.bench_settings()
    store = RecordingStore(url, prefix=settings.store_prefix, timeout=2.0)
    shield = Shield(settings, store=store)
    # (a Cluster URL names its one node: the admin client talks to it directly)
    admin = redis.Redis.from_url(url.replace("redis+cluster://", "redis://"), decode_responses=True)
    results = {}
    calls: dict[str, list[Call]] = {}
    cpus: dict[str, float] = {}
    try:
        for kind, (path, image) in KINDS.items():
            scopes = [
                synthetic_scope(
                    path=path.format(n=0), ip=ip, headers=_headers(image), scheme="http"
                )
                for ip in ADDRESSES
            ]
            for round_ in range(rounds):  # the least CPU of `rounds` (same requests each)
                store.calls, store.measuring = [], False
                admin.flushall()
                for scope in scopes:  # warm up: every address seen once
                    await shield.decide(shield.facts(scope))
                admin.config_resetstat()
                cpu = redis_cpu(admin)
                store.measuring = True
                trips = store.round_trips
                for first in range(0, requests, concurrency):
                    batch = []
                    for n in range(first, min(first + concurrency, requests)):
                        scope = scopes[n % len(scopes)]
                        if "{n}" in path:
                            new = path.format(n=n + 1)
                            scope = {**scope, "path": new, "raw_path": new.encode()}
                        if kind in NEW_VISITORS:  # (a /24 of 250 new people each)
                            ip = f"10.{round_}.{n // 250}.{n % 250 + 1}"
                            scope = {**scope, "client": (ip, 50000)}
                        batch.append(shield.decide(shield.facts(scope)))
                    await asyncio.gather(*batch)
                per_trip = (store.round_trips - trips) / requests
                used = (redis_cpu(admin) - cpu) * 1e6 / requests
                stats = admin.info("commandstats")
                if round_ and used >= cpus[kind]:
                    continue
                cpus[kind] = used
                calls[kind] = store.calls
                results[kind] = (
                    per_trip,
                    cpus[kind],
                    {
                        k.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"]))
                        for k, v in stats.items()
                        if k != "cmdstat_config|resetstat"
                    },
                )
    finally:
        admin.close()
        await store.aclose()
    return results, calls


def replay(url: str, calls: list[Call], rounds: int = 1) -> Stats:
    """Each call again on a fresh server: the commandstats of the measured ones (of the round
    whose scripts took the least CPU)."""
    best: Stats = {}
    for _ in range(rounds):
        stats = _replay(url, calls)
        if not best or stats.get("evalsha", (0, 0))[1] < best.get("evalsha", (0, 0))[1]:
            best = stats
    return best


def _replay(url: str, calls: list[Call]) -> Stats:
    with redis.Redis.from_url(url, decode_responses=True) as client:
        client.flushall()
        started = False
        for source, keys, args, measured in calls:
            if measured and not started:
                client.config_resetstat()
                started = True
            client.evalsha(client.script_load(source), len(keys), *keys, *args)
        stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"])) for k, v in stats.items()}


TOUCHES = {
    "PFCOUNT of 10 distinct keys": "for i = 1, #KEYS do redis.call('PFCOUNT', KEYS[i]) end",
    "PFCOUNT of 1 key, 10 times": "for i = 1, #KEYS do redis.call('PFCOUNT', KEYS[1]) end",
    "MGET of the 10 keys": "redis.call('MGET', unpack(KEYS))",
    "empty, the 10 keys handed in": "return 1",
}


def key_touches(url: str, rounds: int = 5, held: int = 200_000) -> dict[str, float]:
    """µs a script call for each of `TOUCHES`: what touching a key costs, against what a call
    does with it (a key looked up in a large keyspace misses the CPU's caches)."""
    rng = random.Random(19)

    def name(i: int) -> str:
        return f"scrapeshield:id:b:visitor:a:{{198.{i >> 16}.{i >> 8 & 255}.{i & 255}}}:hour1"

    with redis.Redis.from_url(url) as client:
        pipe = client.pipeline(transaction=False)
        for i in range(held):
            pipe.pfadd(name(i), "/images/1.png", "/images/2.png")
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()

        def ten(_: str) -> list[str]:
            first = rng.randrange(held - 10)
            return rng.sample([name(first + i) for i in range(10)], 10)

        return _least_per_call(client, TOUCHES, rounds, ten)


_FIELDS = ("60/60s:1/0", "60/60s:1/1", "600/3600s:2/0", "600/3600s:2/1", "w1", "w2")
LAYOUTS = {  # the rate limit's reads and writes of a request (two client windows, one network)
    "rate limit, 7 keys: MGET + 3 INCRBY": """redis.call('MGET', unpack(KEYS))
for i = 2, 6, 2 do redis.call('INCRBY', KEYS[i], 1) end""",
    "one hash a subject, 3 keys: GET + 2 HMGET + 3 HINCRBY": f"""redis.call('GET', KEYS[1])
redis.call('HMGET', KEYS[2], '{"', '".join(_FIELDS)}')
redis.call('HMGET', KEYS[3], '{"', '".join(_FIELDS[:2])}', 'w1')
redis.call('HINCRBY', KEYS[2], '{_FIELDS[0]}', 1)
redis.call('HINCRBY', KEYS[2], '{_FIELDS[2]}', 1)
redis.call('HINCRBY', KEYS[3], '{_FIELDS[0]}', 1)""",
}


def layouts(url: str, rounds: int = 5, held: int = 100_000) -> dict[str, float]:
    """µs a script call for each of `LAYOUTS`, on a server holding `held` clients' counters in
    both layouts: the rate limit's keys of their own, or one hash per client and network (the
    window each bucket holds as a field, as Redis 7.0 has no TTL per field)."""
    rng = random.Random(19)

    def names(i: int, hashed: bool) -> list[str]:
        client, network = f"198.{i >> 16}.{i >> 8 & 255}.{i & 255}", f"198.{i >> 8}.0/24"
        c, n = f"rl:client:default:{{{client}}}", f"rl:network:default:{{{network}}}"
        if hashed:
            return [f"ban:{{{client}}}", c, n]
        return [f"ban:{{{client}}}", *(f"{c}:{f}" for f in _FIELDS[:4]),
                *(f"{n}:{f}" for f in _FIELDS[:2])]  # fmt: skip

    with redis.Redis.from_url(url) as client:
        pipe = client.pipeline(transaction=False)
        for i in range(held):
            for key in names(i, False)[1:]:
                pipe.set(key, 3, px=3_600_000)
            _, c, n = names(i, True)
            pipe.hset(c, mapping=dict.fromkeys(_FIELDS, 3))
            pipe.hset(n, mapping=dict.fromkeys((*_FIELDS[:2], "w1"), 3))
            if i % 2000 == 1999:
                pipe.execute()
        pipe.execute()
        return _least_per_call(
            client,
            LAYOUTS,
            rounds,
            lambda what: names(rng.randrange(held), what.startswith("one hash")),
        )


def many_clients(
    url: str, clients: int, rounds: int, step: int = 10_000
) -> tuple[list[float], list[float]]:
    """hit.lua's server µs a call over `clients` clients (256 to a /24 network) as the keyspace
    builds: each `step` new clients' first calls, then 3,000 calls of clients seen so far."""
    os.environ["BENCH_STORE_URL"] = url
    settings = apps.bench_settings()
    builder, planner = FactsBuilder(settings), Planner(settings.ratelimit)
    store = RedisStore(url, prefix=settings.store_prefix)
    limiter = RedisLimiter(store)
    rng = random.Random(19)

    def call(i: int) -> tuple[list[str], list[Any]]:
        address = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        facts = builder.build(synthetic_scope(path="/artworks/7", ip=address))
        found = planner.plan(facts, {})
        assert found is not None
        rules, keys = found
        names, args = limiter.call_args(rules, keys, rules.cost, facts.client_key)
        return [store.prefix + k for k in names], args

    with redis.Redis.from_url(url) as client:
        sha, pipe = client.script_load(HIT_SCRIPT), client.pipeline(transaction=False)

        def per_call(indices: Sequence[int]) -> float:
            client.config_resetstat()
            for i in indices:
                keys, args = call(i)
                pipe.evalsha(sha, len(keys), *keys, *args)
            pipe.execute()
            stat = client.info("commandstats")["cmdstat_evalsha"]
            return int(stat["usec"]) / int(stat["calls"])

        first, again = [], []
        for start in range(0, clients, step):
            first.append(per_call(range(start, start + step)))
            seen = start + step
            again.append(
                min(per_call([rng.randrange(seen) for _ in range(3000)]) for _ in range(rounds))
            )
    return first, again


def _least_per_call(
    client: redis.Redis, scripts: dict[str, str], rounds: int, keys_of: Callable[[str], list[str]]
) -> dict[str, float]:
    """The least over `rounds` of each script's server µs a call, 3,000 calls pipelined a round
    (`keys_of(name)`: one call's keys), read from `INFO commandstats`."""
    out: dict[str, float] = {}
    pipe = client.pipeline(transaction=False)
    for what, source in scripts.items():
        sha = client.script_load(source)
        for _ in range(rounds):
            client.config_resetstat()
            for _ in range(3000):
                keys = keys_of(what)
                pipe.evalsha(sha, len(keys), *keys)
            pipe.execute()
            stat = client.info("commandstats")["cmdstat_evalsha"]
            used = int(stat["usec"]) / int(stat["calls"])
            out[what] = min(out.get(what, used), used)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="each figure: the least of these")
    parser.add_argument("--concurrency", type=int, default=1, help="requests decided at a time")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="on a one-primary Redis Cluster (keys split by subject: one script per subject)",
    )
    parser.add_argument(
        "--key-touches", action="store_true", help="what touching a key costs (no requests)"
    )
    parser.add_argument(
        "--clients", type=int, default=0, help="the rate limiter's script over this many clients"
    )
    options = parser.parse_args()
    n = options.requests
    if options.clients:
        with redis_server() as url:
            first, again = many_clients(url, options.clients, options.rounds)
        print("rate limit script, µs a call, by 10,000 clients")
        print("  first calls:   ", " ".join(f"{u:5.1f}" for u in first))
        print("  returning:     ", " ".join(f"{u:5.1f}" for u in again))
        return
    if options.key_touches:
        with redis_server() as url:
            for what, used in key_touches(url, options.rounds).items():
                print(f"{what:30} {used:6.2f} µs a call")
        with redis_server() as url:
            for what, used in layouts(url, options.rounds).items():
                print(f"{what:54} {used:6.2f} µs a call")
        return
    if options.cluster:
        from benchmarks.bench_cluster import one_primary

        with one_primary() as cluster:
            results, calls = asyncio.run(
                measure(cluster.url, n, options.rounds, options.concurrency)
            )
    else:
        with redis_server() as url:
            results, calls = asyncio.run(measure(url, n, options.rounds, options.concurrency))
    split: dict[str, dict[str, Stats]] = {}
    with redis_server() as url:
        for kind, recorded in calls.items():
            for source, component in COMPONENTS.items():
                mine = [c for c in recorded if c[0] == source]
                split.setdefault(kind, {})[component] = (
                    replay(url, mine, options.rounds) if mine else {}
                )
    for kind, (trips, cpu, stats) in results.items():
        total_calls = sum(c for c, _ in stats.values())
        evalsha = stats.get("evalsha", (0, 0))
        print(f"\n{kind}: Redis server CPU {cpu:.1f} µs/request (INFO cpu, the whole process)")
        print(f"{kind}: {trips:.2f} round trips/request, {evalsha[1] / n:.1f} µs Redis CPU "
              f"in scripts/request, {sum(u for _, u in stats.values()) / n:.1f} µs in all, "
              f"{total_calls / n:.1f} commands/request (inner calls included)")  # fmt: skip
        for name, (count, usec) in sorted(stats.items(), key=lambda kv: -kv[1][0]):
            print(f"  {name:18} {count / n:6.2f} calls/request {usec / max(count, 1):6.2f} µs/call")
        print("  by component (replayed alone): script µs/request, inner calls/request")
        for component, parts in split[kind].items():
            script = parts.get("evalsha", (0, 0))
            inner = {k: c for k, (c, _) in parts.items() if k not in _ADMIN}
            listed = ", ".join(f"{k} {c / n:.2f}" for k, c in sorted(inner.items()))
            print(f"    {component:10} {script[0] / n:.2f} scripts {script[1] / n:6.1f} µs  "
                  f"{sum(inner.values()) / n:5.1f} inner: {listed}")  # fmt: skip


if __name__ == "__main__":
    main()
