"""On Redis the behaviour script judges what the detector judges on the memory store (its
reference): the walk length over the recent ids, the orphan check against the pages viewed,
both windows' counters, and the trap flag read along with them (script.py). The same requests
at the same times, on both stores, get the same signals, details included (both loops)."""

from __future__ import annotations

import random

import msgspec
import pytest

from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store import MemoryStore
from scrapeshield.store.redis import RedisStore
from tests.behaviour.test_behaviour import CSS, IMG, PAGE, TRAP, settings
from tests.servers import LOADED_STORE_TIMEOUT

pytestmark = pytest.mark.both_loops
START = 1_800_000_000.0
BARE = {k: v for k, v in IMG.items() if k != "Sec-Fetch-Dest"}  # an original opened directly


def _requests(seed: int, count: int) -> list[tuple[str, str, dict[str, str], float]]:
    """(address, path, headers, time): walks of every stride and direction (interleaved, and
    broken by pauses past `sequential_ttl`), ids at both ends of the twelve digits, originals
    with and without their page or a listing viewed, assets, pauses past `page_memory`."""
    rng = random.Random(seed)
    walks = {ip: [rng.randint(0, 60), rng.choice([1, -1, 7, -3, 1000])] for ip in ("a", "b")}
    viewed: list[int] = [1]
    out = []
    now = START
    for _ in range(count):
        now += rng.choice([0.3, 1.0, 4.0, 9.0, 9.0, 130.0, 700.0] if rng.random() < 0.05 else [1])
        ip = rng.choice(["a", "b"])
        address = "203.0.113.7" if ip == "a" else "198.51.100.9"
        walk = walks[ip]
        roll = rng.random()
        if roll < 0.35:  # the next id of this client's walk (a page, or its original)
            walk[0] += walk[1]
            if walk[0] < 0 or rng.random() < 0.04:
                walk[0], walk[1] = rng.choice([0, 5, 999_999_999_990]), rng.choice([1, -1, 2])
            ident = walk[0]
            if rng.random() < 0.5:
                viewed.append(ident)
                out.append((address, f"/artworks/{ident}", PAGE, now))
            else:
                out.append((address, f"/images/{ident:04d}.png", BARE, now))
        elif roll < 0.55:  # a work's page, then maybe its own original
            ident = rng.randint(0, 40)
            viewed.append(ident)
            out.append((address, f"/artworks/{ident}", PAGE, now))
        elif roll < 0.75:  # an original: its page viewed or not, shown on a page or not
            ident = rng.choice([rng.choice(viewed), rng.randint(0, 40)])
            shown = rng.choice(["/", "/tags/cats", f"/artworks/{rng.choice(viewed)}", ""])
            headers = {**IMG, "Referer": f"http://localhost{shown}"} if shown else BARE
            out.append((address, f"/images/{ident}.png", headers, now))
        elif roll < 0.85:  # a listing
            out.append((address, rng.choice(["/", "/tags/cats", "/tags/dogs"]), PAGE, now))
        elif roll < 0.99:
            out.append((address, "/static/gallery.css", CSS, now))
        else:
            out.append((address, TRAP, PAGE, now))
    return out


@pytest.mark.parametrize("seed", [19, 20])
async def test_redis_judges_as_the_memory_store_does(
    redis_url: str, redis_prefix: str, seed: int
) -> None:
    requests = _requests(seed, 700)
    tuned = settings(behaviour={"sequential_run": 4, "originals_without_page": 3})
    memory = Shield(tuned, store=MemoryStore())
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    fired: set[str] = set()
    try:
        redis = Shield(tuned, store=store)
        for n, (address, path, headers, when) in enumerate(requests):
            scope = synthetic_scope(path=path, ip=address, headers=list(headers.items()))
            found = []
            for shield in (memory, redis):
                facts = msgspec.structs.replace(shield.facts(scope), time=when)
                decision = await shield.decide(facts)
                found.append([(s.name, s.detail) for s in decision.reasons])
            assert found[0] == found[1], (n, path)
            fired.update(name for name, _ in found[0])
    finally:
        await store.aclose()
    # the sequence reaches every rule it compares (else it would prove nothing)
    for name in (
        "behaviour/sequential-ids",
        "behaviour/originals-without-page",
        "trap/hit",
        "trap/flagged",
    ):
        assert name in fired, name
