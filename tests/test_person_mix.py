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
import subprocess
from pathlib import Path
from typing import Any

import pytest
from benchmarks import apps, person

from tests.servers import LOADED_STORE_ENV, LOOPS, RedisServer, serve

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
    for name, value in LOADED_STORE_ENV.items():  # (a request failed open shows in the tally)
        monkeypatch.setenv(name, value)
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


def test_person_lua_sends_the_file_in_order_and_starts_again(tmp_path: Path) -> None:
    """benchmarks/person.lua (wrk -s) sends each raw request of the file, headers as written,
    in the file's order, and the file again from the top (wrk may drop the first one)."""
    seen: list[tuple[str, str, str]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        seen.append((scope["path"], headers[b"x-forwarded-for"].decode(), scope["client"][0]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    requests = tmp_path / "requests.http"
    text = "".join(person.raw(f"/p{n}", [("host", "h")], n, "c=1") for n in range(3))
    requests.write_text(text, encoding="latin-1")
    with serve(app, lifespan="off") as server:
        command = person.wrk_command(server.url, requests, 1, 1)
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
    assert "Non-2xx" not in out.stdout
    assert len(seen) > 6
    first = int(seen[0][0].removeprefix("/p"))  # wrk calls request() once before it sends
    cycle = [(n + first) % 3 for n in range(len(seen))]
    assert seen == [(f"/p{n}", person.address(n), "127.0.0.1") for n in cycle]
