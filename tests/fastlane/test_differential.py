"""The fast lane against the pipeline (tests/fastlane/differential.py): every decision, response
header and stored count equal with `fast_lane` on and off, on the person and the adversaries,
memory and Redis, asyncio and uvloop; and the harness fails when the two differ."""

from __future__ import annotations

from typing import Any

import pytest

from scrapeshield.facts import Facts
from scrapeshield.fastlane import steady
from tests.fastlane import sequences
from tests.fastlane.differential import Twins
from tests.servers import RedisServer

pytestmark = pytest.mark.both_loops


def _cookies(twins: Twins, count: int) -> list[str]:
    """Visitor tokens of returning people, made by the shields' own (shared) key."""
    person = sequences.person
    out = []
    for who in range(count):
        headers = [
            *person.page(sequences.HOST, "/", None, who),
            ("x-forwarded-for", person.address(who)),
        ]
        out.append(twins.mint(sequences.Request("/", headers, ip="127.0.0.1").scope()))
    return out


async def _all(twins: Twins) -> None:
    await twins.send(sequences.persons(6, 4, _cookies(twins, 6)))
    for sequence in sequences.ADVERSARIES.values():
        await twins.send(sequence())
        await twins.compare_stores()
    await twins.aclose()


async def test_the_fast_lane_equals_the_pipeline_on_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    twins = Twins(monkeypatch)
    await _all(twins)
    assert twins.requests > 500
    assert len(twins.fast._plans._steady or ()) > 10  # the table was used


async def test_the_fast_lane_equals_the_pipeline_on_redis(
    monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer, redis_prefix: str
) -> None:
    from scrapeshield.store import RedisStore

    names = iter(("fast", "full"))
    twins = Twins(
        monkeypatch,
        stores=lambda: RedisStore(
            redis_server.url, prefix=f"{redis_prefix}{next(names)}:", timeout=2.0
        ),
    )
    twins.server_clock = True
    await _all(twins)


async def test_the_harness_fails_when_the_table_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table keyed by the address alone answers a new user agent with the old one's signals:
    the harness names the request where the two shields part."""

    def stale(facts: Facts) -> tuple[Any, ...]:
        return (facts.method, facts.route_group, facts.route, facts.client_ip)

    monkeypatch.setattr(steady, "steady_key", stale)
    twins = Twins(monkeypatch)
    with pytest.raises(AssertionError, match="decisions differ"):
        await twins.send(sequences.libraries())
    await twins.aclose()
