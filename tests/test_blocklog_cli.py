"""The block log (logger + store stream) and the CLI reading it back: in this process (`main`,
tests/command.py), and as a real subprocess where the test is about one (a ban written by the
command's own process and enforced by a server; the console script installed)."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from scrapeshield import Settings, blocklist
from scrapeshield.blocklog import BlockEvent, parse_since, summarise
from scrapeshield.cli import main as cli_main
from scrapeshield.store import RedisStore
from tests.browsers import CHROME_UA, chrome
from tests.command import SCRIPT, cli, cli_process
from tests.servers import (
    LOADED_STORE_TIMEOUT,
    closing_app,
    redis_store_settings,
    serve,
)


async def ok(request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


def app_for(settings: Settings) -> Starlette:
    app: Starlette = closing_app(settings, [Route("/", ok), Route("/{path:path}", ok)])
    return app


def redis_settings(url: str, prefix: str, **more: Any) -> Settings:
    return Settings(**redis_store_settings(url, prefix, **more))


def blocklog_records(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "scrapeshield.blocklog"]


async def stream(url: str, prefix: str) -> list[dict[str, Any]]:
    store = RedisStore(url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        return [e.data for e in await store.read_events()]
    finally:
        await store.aclose()


def test_a_blocked_request_is_one_log_record_and_one_stream_entry(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scrapeshield.blocklog")
    settings = redis_settings(
        redis_url, redis_prefix, blocklist=[blocklist("no-wget", user_agents=["Wget/*"])]
    )
    with serve(app_for(settings), lifespan="on") as server:
        allowed = httpx.get(server.url + "/ok", headers=chrome())
        blocked = httpx.get(
            server.url + "/artworks/7?size=xl",
            headers={"user-agent": "Wget/1.21", "accept": "application/json"},
        )
    assert (allowed.status_code, blocked.status_code) == (200, 403)

    [record] = blocklog_records(caplog)
    assert caplog.records[-1].levelno == logging.WARNING
    assert record["request_id"] == blocked.json()["request_id"]
    expected = {
        "event": "decision",
        "client_key": "127.0.0.1",
        "client_ip": "127.0.0.1",
        "user_agent": "Wget/1.21",
        "method": "GET",
        "path": "/artworks/7",
        "route_group": "default",
        "action": "block",
        "rule": "blocklist/no-wget",
        "score": 0.0,
        "enforced": True,
        "reasons": [
            {"name": "blocklist/no-wget", "weight": 0.0, "detail": "operator blocklist rule"}
        ],
        "schema": 2,
        "agent": None,
        "category": None,
    }
    assert {k: record[k] for k in expected} == expected
    assert set(record) == {*expected, "ts", "time", "request_id", "directives"}
    assert len(record["directives"]) == 16  # the directive state in force (evidence)
    assert record["ts"].endswith("Z")
    assert abs(record["time"] - time.time()) < 30

    assert asyncio.run(stream(redis_url, redis_prefix)) == [record]

    tail = cli(
        "log",
        "tail",
        "--json",
        "--store",
        redis_url,
        env={"SCRAPESHIELD_STORE_PREFIX": redis_prefix},
    )
    assert tail.returncode == 0, tail.stderr
    assert [json.loads(line) for line in tail.stdout.splitlines()] == [record]

    text = cli("log", "--store", redis_url, env={"SCRAPESHIELD_STORE_PREFIX": redis_prefix})
    assert "blocklist/no-wget" in text.stdout
    assert "/artworks/7" in text.stdout


def test_log_summary_and_since(
    redis_url: str,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = redis_settings(
        redis_url,
        redis_prefix,
        mode="monitor",
        trusted_proxies=["127.0.0.1/32"],
        blocklist=[
            blocklist("bots", user_agents=["*bot*"]),
            blocklist("curl", user_agents=["curl/*"]),
        ],
    )
    app = app_for(settings)
    with TestClient(app, client=("127.0.0.1", 5000)) as client:
        for ip, ua in [("192.0.2.1", "somebot"), ("192.0.2.1", "curl/8"), ("192.0.2.2", "ourbot")]:
            assert client.get("/", headers={"user-agent": ua, "x-forwarded-for": ip}).is_success
        time.sleep(0.05)
        middle = time.time()
        time.sleep(0.05)
        client.get("/", headers={"user-agent": "curl/8", "x-forwarded-for": "192.0.2.3"})
        client.get("/", headers={**chrome(), "x-forwarded-for": "192.0.2.4"})

    env = {"SCRAPESHIELD_STORE_URL": redis_url, "SCRAPESHIELD_STORE_PREFIX": redis_prefix}
    result = cli("log", "summary", "--json", env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["total"] == 4
    assert summary["by_action"] == {"block": 4}
    assert summary["by_rule"] == {"blocklist/bots": 2, "blocklist/curl": 2}
    assert summary["by_client"] == {"192.0.2.1": 2, "192.0.2.2": 1, "192.0.2.3": 1}

    # The same settings set in this process's environment (as an operator's shell would).
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> str:
        assert cli_main(list(args)) == 0
        return capsys.readouterr().out

    later = json.loads(run("log", "summary", "--json", "--since", str(middle)))
    assert later["total"] == 1
    assert later["by_client"] == {"192.0.2.3": 1}
    assert json.loads(run("log", "summary", "--json", "--since", "1h"))["total"] == 4

    lines = run("log", "--json", "--since", str(middle)).splitlines()
    [event] = [json.loads(line) for line in lines]
    assert event["client_key"] == "192.0.2.3"
    assert event["enforced"] is False  # monitor mode

    assert len(run("log", "tail", "--json", "-n", "2").splitlines()) == 2
    assert len(run("log", "tail", "--json", "--rule", "blocklist/curl").splitlines()) == 2
    assert len(run("log", "tail", "--json", "--client", "192.0.2.1").splitlines()) == 2
    assert len(run("log", "tail", "--json", "--action", "ban").splitlines()) == 0

    text = run("log", "summary")
    assert "4 events" in text
    assert "blocklist/bots" in text

    assert cli_main(["log", "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err  # errors on stderr


def test_ban_and_unban_through_the_cli_are_enforced_by_the_middleware(
    redis_url: str, redis_prefix: str
) -> None:
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix}
    settings = redis_settings(redis_url, redis_prefix)
    with serve(app_for(settings), lifespan="on") as server:
        headers = chrome(Accept="application/json")
        assert httpx.get(server.url + "/", headers=headers).status_code == 200

        banned = cli_process(
            "ban", "127.0.0.1", "--for", "1h", "--reason", "scraping", "--store", redis_url, env=env
        )
        assert banned.returncode == 0, banned.stderr
        assert "banned 127.0.0.1 for 3600s (scraping)" in banned.stdout
        assert "warning" not in banned.stderr

        listed = json.loads(cli("bans", "--json", "--store", redis_url, env=env).stdout)
        assert [(b["client_key"], b["reason"]) for b in listed] == [("127.0.0.1", "scraping")]
        assert 3500 < listed[0]["until"] - time.time() <= 3600

        response = httpx.get(server.url + "/", headers=headers)
        assert response.status_code == 403
        assert response.json()["error"] == "block"

        lifted = cli_process("unban", "127.0.0.1", "--store", redis_url, env=env)
        assert lifted.returncode == 0
        assert "unbanned 127.0.0.1" in lifted.stdout
        assert httpx.get(server.url + "/", headers=headers).status_code == 200

        again = cli("unban", "127.0.0.1", "--store", redis_url, env=env)
        assert again.returncode == 1
        assert "was not banned" in again.stdout


def test_ban_groups_ipv6_like_requests(redis_url: str, redis_prefix: str) -> None:
    env = {"SCRAPESHIELD_STORE_PREFIX": redis_prefix}
    result = cli("ban", "2001:db8:1:2::99", "--for", "10m", "--store", redis_url, env=env)
    assert "banned 2001:db8:1:2::/64 for 600s" in result.stdout


def test_ban_against_the_memory_store_warns() -> None:
    result = cli("ban", "192.0.2.1", "--for", "1h", "--store", "memory://")
    assert result.returncode == 0
    assert "warning" in result.stderr
    assert "only in this command's process" in result.stderr


def test_ban_rejects_bad_durations() -> None:
    result = cli("ban", "192.0.2.1", "--for", "soon")
    assert result.returncode == 2
    assert "not a duration" in result.stderr


def test_explain_text() -> None:
    result = cli_process(
        "explain", "--ip", "198.51.100.4", "--path", "/images/3.png", "--method", "head"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "HEAD /images/3.png  from 198.51.100.4" in out
    assert "ua        (none)" in out
    assert "group     images" in out
    assert "+50.0  ua/empty" in out
    assert "decision  challenge  (rule score/challenge)" in out


def test_explain_json_with_headers_and_settings(tmp_path: Any) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[[blocklist]]\nname = "tokens"\nheaders = { "x-api-key" = "leaked-*" }\n')
    result = cli(
        "explain", "--json", "--config", str(config), "--ua", "Mozilla/5.0",
        "--header", "X-Api-Key: leaked-123", "--header", "Accept: text/html",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["action"] == "block"
    assert data["rule"] == "blocklist/tokens"
    assert data["user_agent"] == "Mozilla/5.0"
    assert data["signals"] == [
        {"name": "blocklist/tokens", "weight": 0.0, "detail": "operator blocklist rule"}
    ]
    browser = [arg for name, value in chrome().items()
               for arg in ("--header", f"{name}: {value}")]  # fmt: skip
    allowed = json.loads(cli("explain", "--json", "--ua", CHROME_UA, *browser).stdout)
    assert (allowed["action"], allowed["signals"]) == ("allow", [])
    bad = cli("explain", "--header", "no-colon")
    assert bad.returncode != 0
    assert "is not 'Name: value'" in bad.stderr


def test_cli_reports_bad_settings_by_name() -> None:
    result = cli("explain", env={"SCRAPESHIELD_MODE": "loud"})
    assert result.returncode == 2
    assert "mode (SCRAPESHIELD_MODE)" in result.stderr


def test_summarise_and_parse_since_units() -> None:
    events = [{"action": "block", "rule": "r", "client_key": "a"}] * 3
    assert summarise(events)["by_client"] == {"a": 3}
    assert parse_since("90s", now=1000.0) == 910.0
    assert parse_since("2h", now=10_000.0) == 2800.0
    assert parse_since("1700000000") == 1_700_000_000.0
    with pytest.raises(ValueError, match="could not convert"):
        parse_since("soon")


def test_block_event_caps_the_user_agent() -> None:
    from scrapeshield.shield import Shield, synthetic_scope

    shield = Shield(Settings(user_agent_max_length=16_384))
    facts = shield.facts(synthetic_scope(user_agent="x" * 5000))
    decision = shield.failure_decision(facts, RuntimeError())
    assert len(BlockEvent.from_decision(decision, facts).user_agent) == 512


def test_cli_with_the_store_down_says_so_without_a_traceback() -> None:
    for args in (["log", "tail"], ["ban", "192.0.2.1"], ["log", "summary", "--json"]):
        result = cli(*args, "--store", "redis://127.0.0.1:1/0")
        assert result.returncode == 1, args
        assert "the store is unavailable" in result.stderr
        assert "Traceback" not in result.stderr


def test_since_rejects_non_finite_times() -> None:
    for value in ("nan", "inf", "-inf", "infh"):
        with pytest.raises(ValueError, match="not a time"):
            parse_since(value)
    result = cli("log", "--since", "nan")
    assert result.returncode == 2


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [SCRIPT, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    for command in ("demo", "explain", "log", "ban", "unban"):
        assert command in result.stdout
