"""The support path ("I am blocked"): find the request by the id on its block page, see what holds
the client, lift it, on a real Redis, with the CLI run as an operator runs it (a subprocess)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest

from scrapeshield import Settings
from scrapeshield.bans import BanList, ban_key
from scrapeshield.facts import FactsBuilder
from scrapeshield.ratelimit.escalation import level_key, strike_key
from scrapeshield.shield import Shield
from scrapeshield.store import RedisStore
from scrapeshield.support import Support, TargetError, client_key_of
from scrapeshield.synthetic import synthetic_scope
from tests.browsers import chrome
from tests.command import cli
from tests.operators_app import flag
from tests.servers import LOADED_STORE_TIMEOUT, LOOPS, serve
from tests.test_blocklog_cli import app_for, redis_settings

TRAP = "/archive/full/"


def run_store(url: str, prefix: str, action: Any) -> Any:
    """`action(store)` on a RedisStore of its own, closed afterwards."""

    async def go() -> Any:
        store = RedisStore(url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT, max_events=10_000)
        try:
            return await action(store)
        finally:
            await store.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("loop", LOOPS)
def test_a_trapped_person_is_found_by_request_id_and_unblocked(
    redis_url: str, redis_prefix: str, loop: str
) -> None:
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix}
    settings = redis_settings(redis_url, redis_prefix, directives={"trap_paths": [TRAP]})
    headers = chrome(Accept="application/json")
    with serve(app_for(settings), lifespan="on", loop=loop) as server:
        assert httpx.get(server.url + "/", headers=headers).status_code == 200
        trapped = httpx.get(server.url + TRAP + "1", headers=headers)
        assert trapped.status_code == 403
        blocked = httpx.get(server.url + "/artworks/7", headers=headers)
        assert blocked.status_code == 403
        request_id = blocked.json()["request_id"]  # what the person reads off the block page

        shown = cli("log", "show", "--request", request_id, "--store", redis_url, env=env)
        assert shown.returncode == 0, shown.stderr
        assert f"request {request_id}" in shown.stdout
        assert "trap/flagged" in shown.stdout
        assert "scrapeshield unban 127.0.0.1" in shown.stdout
        as_json = cli(
            "log", "show", "--request", request_id, "--json", "--store", redis_url, env=env
        )
        [event] = [json.loads(line) for line in as_json.stdout.splitlines()]
        assert (event["request_id"], event["path"]) == (request_id, "/artworks/7")

        listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
        assert [(r["kind"], r["client_key"], r["rule"]) for r in listed] == [
            ("trap", "127.0.0.1", "trap/flagged")
        ]
        assert 800 < listed[0]["remaining"] <= 900  # trap_flag_ttl, 15 minutes
        text = cli("bans", "--store", redis_url, env=env).stdout
        assert re.search(
            r"^trap\s+127\.0\.0\.1\s+\d+s\s+trap/flagged\s+hit /archive/full/1", text, re.M
        )

        lifted = cli("unban", "127.0.0.1", "--store", redis_url, env=env)
        assert lifted.returncode == 0, lifted.stderr
        assert "trap flag cleared" in lifted.stdout
        assert httpx.get(server.url + "/artworks/7", headers=headers).status_code == 200
        assert json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout) == []


def test_log_show_searches_the_whole_stream_and_says_when_nothing_is_found(
    redis_url: str, redis_prefix: str
) -> None:
    """The wanted event is the oldest of 3000, and the command's own settings think the stream
    keeps 10: it reads on until it has everything the store keeps."""

    async def fill(store: RedisStore) -> None:
        await store.append_event({"request_id": "oldest-one", "action": "block", "rule": "r"})
        for n in range(3000):
            await store.append_event({"request_id": f"r{n}", "action": "block"})

    run_store(redis_url, redis_prefix, fill)
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix, "SCRAPESHIELD_EVENT_STREAM_MAXLEN": "10"}
    found = cli("log", "show", "--request", "oldest-one", "--json", "--store", redis_url, env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["request_id"] == "oldest-one"

    missing = cli("log", "show", "--request", "0123456789abcdef", "--store", redis_url, env=env)
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert "no event with request id '0123456789abcdef'" in missing.stderr
    no_id = cli("log", "show", "--store", redis_url, env=env)
    assert no_id.returncode == 2
    assert "--request" in no_id.stderr


def test_unban_forget_clears_the_escalation_history(redis_url: str, redis_prefix: str) -> None:
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix}
    key = "198.51.100.23"

    async def seed(store: RedisStore) -> None:
        await BanList(store).ban(key, 600, reason="ban #3: throttled", rule="escalation/ban")
        await store.incr(strike_key(key), 4, ttl=600)
        await store.incr(level_key(key), 3, ttl=600)

    async def history(store: RedisStore) -> list[str | None]:
        return await store.get_many([strike_key(key), level_key(key), ban_key(key)])

    run_store(redis_url, redis_prefix, seed)
    plain = cli("unban", key, "--store", redis_url, env=env)
    assert plain.returncode == 0
    assert "ban lifted" in plain.stdout
    assert run_store(redis_url, redis_prefix, history) == ["4", "3", None]  # history kept

    forgot = cli("unban", key, "--forget", "--store", redis_url, env=env)
    assert forgot.returncode == 0, forgot.stdout
    assert "was not banned: escalation history forgotten" in forgot.stdout
    assert run_store(redis_url, redis_prefix, history) == [None, None, None]
    nothing = cli("unban", key, "--forget", "--store", redis_url, env=env)
    assert nothing.returncode == 1
    assert "was not banned, nor flagged by a trap" in nothing.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ban", "list"], "to list bans: scrapeshield bans"),
        (["ban", "not-an-ip"], "'not-an-ip' is not an IP address or a network"),
        (["ban", "192.0.2.0/24", "--for", "1h"], "'192.0.2.0/24' is a /24"),
        (["ban", "2001:db8::/48"], "clients are keyed by /64 networks"),
        (["ban", "192.0.2.0/33"], "is not a network"),
        (["unban", "list"], "is not an IP address or a network"),
        (["unban", "example.com"], "give an IPv4 or IPv6 address"),
    ],
)
def test_ban_and_unban_refuse_what_is_not_a_client(
    redis_url: str, redis_prefix: str, args: list[str], message: str
) -> None:
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix}
    result = cli(*args, "--store", redis_url, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""

    async def keys(store: RedisStore) -> list[str]:
        return await store.keys("")

    assert run_store(redis_url, redis_prefix, keys) == []  # nothing was written


def test_a_cidr_bans_the_client_key_requests_get(redis_url: str, redis_prefix: str) -> None:
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix, "SCRAPESHIELD_IPV4_PREFIX": "24"}
    banned = cli("ban", "192.0.2.99/24", "--for", "10m", "--store", redis_url, env=env)
    assert banned.returncode == 0, banned.stderr
    assert "banned 192.0.2.0/24 for 600s" in banned.stdout
    facts = FactsBuilder(Settings(ipv4_prefix=24)).build(synthetic_scope(ip="192.0.2.7"))
    assert facts.client_key == "192.0.2.0/24"  # the key the ban is stored under
    v6 = cli("ban", "2001:db8:5:6::/64", "--store", redis_url, env=env)
    assert "banned 2001:db8:5:6::/64" in v6.stdout
    listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
    assert sorted(r["client_key"] for r in listed) == ["192.0.2.0/24", "2001:db8:5:6::/64"]
    lifted = cli("unban", "192.0.2.0/24", "--store", redis_url, env=env)
    assert "unbanned 192.0.2.0/24: ban lifted" in lifted.stdout


def test_client_key_of() -> None:
    settings = Settings()
    assert client_key_of(" 203.0.113.7 ", settings) == "203.0.113.7"
    assert client_key_of("203.0.113.7/32", settings) == "203.0.113.7"
    assert client_key_of("2001:db8:1:2::99", settings) == "2001:db8:1:2::/64"
    assert client_key_of("2001:db8:1:2::99/128", settings) == "2001:db8:1:2::/64"
    assert client_key_of("2001:db8:1:2:ff::/64", settings) == "2001:db8:1:2::/64"
    for bad in ("", "unknown", "list", "10.0.0.0/8", "2001:db8::/96", "1.2.3.4/x"):
        with pytest.raises(TargetError):
            client_key_of(bad, settings)


async def test_the_library_lifts_what_the_cli_lifts(redis_url: str, redis_prefix: str) -> None:
    """An app's own admin page: Shield.unban and Support, no CLI."""
    shield = Shield(redis_settings(redis_url, redis_prefix))
    try:
        await flag(shield.store, "203.0.113.9", "/archive/full/2", 60)
        support = Support(shield.store, shield.settings)
        [flagged] = await support.trap_flags()
        assert (flagged.client_key, flagged.path) == ("203.0.113.9", "/archive/full/2")
        assert 50 < flagged.remaining <= 60
        assert await shield.unban("203.0.113.9") is True  # the trap flag alone counts
        assert await support.trap_flags() == []
        assert await shield.unban("203.0.113.9") is False
        with pytest.raises(TargetError):
            await shield.ban("list")
    finally:
        await shield.aclose()
