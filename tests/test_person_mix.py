"""The benchmark's person mix (benchmarks/person.py) is a person to the shipped defences.

benchmarks.run's person rows measure the cost of returning people; were the mix to raise a
signal (a detector or a default changed), they would silently measure a signalled client again,
as the one-page rows do. So: the mix, sent header for header through uvicorn to the app those
rows serve, meets allows only, with no signal, on both stores and loops, leases off and on.
"""

from __future__ import annotations

import http.client
import itertools
import json
from pathlib import Path

import pytest
from benchmarks import apps, person

from tests.servers import LOOPS, RedisServer, serve

PERSONS = 8


def send(base: str, text: str) -> list[int]:
    """Send the raw requests of `text` in order, over one connection, exactly as written."""
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
    statuses = []
    try:
        for request in text.split("\r\n\r\n")[:-1]:
            line, *headers = request.split("\r\n")
            method, path, _ = line.split(" ")
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for header in headers:
                name, _, value = header.partition(": ")
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
    return statuses


@pytest.mark.parametrize("leases", ["false", "true"])
@pytest.mark.parametrize("store", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_the_person_mix_meets_no_signal(
    loop: str,
    store: str,
    leases: str,
    own_redis: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stats = tmp_path / "stats.json"
    monkeypatch.setenv("BENCH_STORE_URL", own_redis.url if store == "redis" else "memory://")
    monkeypatch.setenv("BENCH_PERSON", "on")
    monkeypatch.setenv("BENCH_STATS", str(stats))
    monkeypatch.setenv("BENCH_TALLY", "on")
    monkeypatch.setenv("SCRAPESHIELD_LEASE__ENABLED", leases)
    with serve(apps.protected(), loop=loop, lifespan="on") as server:
        cookies = person.visitor_cookies(server.url, PERSONS)
        assert all(c.startswith(person.COOKIE + "=") and "x" * 96 not in c for c in cookies)
        text = person.schedule(server.url.removeprefix("http://"), cookies)
        statuses = send(server.url, text)
    assert len(statuses) == PERSONS * person.PAGES_EACH * (1 + len(person.ASSETS))
    assert set(statuses) == {200}
    figures = json.loads(stats.read_text())
    assert figures["signals"] == {}
    assert figures["decisions"] == {"allow allow": PERSONS + len(statuses)}  # (+ first pages)


def test_each_person_has_an_address_of_its_own_network_and_a_random_walk() -> None:
    networks = {person.address(p).rsplit(".", 1)[0] for p in range(1000)}
    assert len(networks) == 1000
    text = person.schedule("h", [f"{person.COOKIE}=c{p}" for p in range(2)])
    pages = [
        int(line.split()[1].rsplit("/", 1)[1])
        for line in text.split("\r\n")
        if line.startswith("GET /artworks/")
    ]
    first = pages[0::2]  # round-robin: person 0's pages are every other page
    assert len(set(first)) == person.PAGES_EACH
    assert sum(b == a + 1 for a, b in itertools.pairwise(first)) < 3
