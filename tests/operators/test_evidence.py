"""The block log's fields and evidence, through a real uvicorn on both loops and a real Redis:
structured logging (python-json-logger writes each field once), capped client-controlled
fields, the directive state per event, sampled served requests, and signed evidence reports
(real Redis and a log file; a tampered report fails verification)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from scrapeshield import Settings, blocklist
from scrapeshield.blocklog import BlockEvent
from scrapeshield.evidence.report import ReportError, build_report, sign, verify
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store import MemoryStore, RedisStore
from tests.command import cli, cli_process
from tests.servers import (
    LOADED_STORE_TIMEOUT,
    LOOPS,
    closing_app,
    redis_store_settings,
    serve,
)
from tests.windows import wait_for_room

KEY = "evidence-key-0123456789"
TWITTERBOT = "Twitterbot/1.0"


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse("<p>art</p>")


def app_for(settings: Settings) -> Any:
    return closing_app(settings, [Route("/{path:path}", page)])


@contextlib.contextmanager
def block_log_to(handler: logging.Handler) -> Iterator[None]:
    """The block logger (and its directive-state child) written to `handler`."""
    log = logging.getLogger("scrapeshield.blocklog")
    previous = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


def settings_for(url: str, prefix: str, **more: Any) -> Settings:
    return Settings(
        **redis_store_settings(url, prefix),
        blocklist=[blocklist("wget", user_agents=["Wget/*"])],
        directives={"paths": [{"prefix": "/open/", "train_ai": True}]},
        evidence={"signing_key": KEY, "served_per_minute": 2},
        **more,
    )


def read_stream(url: str, prefix: str) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        store = RedisStore(url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
        try:
            return [e.data for e in await store.read_events(limit=10_000)]
        finally:
            await store.aclose()

    return asyncio.run(go())


def stored(url: str, prefix: str, key: str) -> str | None:
    async def go() -> str | None:
        store = RedisStore(url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
        try:
            return await store.get(key)
        finally:
            await store.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("loop", LOOPS)
def test_events_carry_the_directive_state_and_served_samples(
    redis_url: str, redis_prefix: str, loop: str, tmp_path: Path
) -> None:
    settings = settings_for(redis_url, redis_prefix)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    with block_log_to(handler), serve(app_for(settings), loop=loop, lifespan="on") as server:
        robots = httpx.get(server.url + "/robots.txt", headers={"user-agent": "Mozilla/5.0"})
        etag = robots.headers["etag"]  # (not a catalogued agent: no robots/fetched event)
        for path in ("/art/1", "/open/2"):
            assert (
                httpx.get(server.url + path, headers={"user-agent": "Wget/1.21"}).status_code == 403
            )
        wait_for_room(10.0)  # served_per_minute counts by clock minute: the 5 in one
        served = [
            httpx.get(server.url + f"/gallery/{n}", headers={"user-agent": TWITTERBOT})
            for n in range(5)
        ]
    assert {r.status_code for r in served} == {200}

    events = read_stream(redis_url, redis_prefix)
    blocked = [e for e in events if e["event"] == "decision"]
    assert [e["path"] for e in blocked] == ["/art/1", "/open/2"]
    closed, opened = (e["directives"] for e in blocked)
    assert closed != opened
    state = json.loads(stored(redis_url, redis_prefix, f"directives:{closed}") or "{}")
    assert state["robots_txt"] == {"mode": "generate", "etag": etag}
    assert state["headers"]["x-robots-tag"] == "noai, noimageai"
    assert state["headers"]["tdm-reservation"] == "1"
    open_state = json.loads(stored(redis_url, redis_prefix, f"directives:{opened}") or "{}")
    assert open_state["headers"]["tdm-reservation"] == "0"
    assert open_state["preferences"]["prefix"] == "/open/"

    samples = [e for e in events if e["event"] == "served"]
    assert len(samples) == 2  # served_per_minute
    assert {(e["agent"], e["category"], e["action"]) for e in samples} == {
        ("Twitterbot", "social-preview", "allow")
    }

    # python-json-logger: one JSON object per record, every field once, none JSON-in-a-string
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    records = [r for r in lines if r.get("event") == "decision"]
    assert [r["path"] for r in records] == ["/art/1", "/open/2"]
    for record in lines:
        assert not str(record.get("message", "")).lstrip().startswith("{")
    assert records[0]["reasons"][0]["name"] == "blocklist/wget"
    assert records[0]["schema"] == 2
    assert any(
        r.get("event") == "directives" and r["state"]["robots_txt"]["etag"] == etag for r in lines
    )


def test_client_controlled_fields_are_capped() -> None:
    """A 60 KB path, user agent and request id cost a few KB per kept event, not 180 KB."""
    shield = Shield(Settings(user_agent_max_length=16_384, trust_request_id=True))
    huge = "x" * 60_000
    scope = synthetic_scope(
        path="/" + huge, user_agent="Wget/" + huge, headers=[("x-request-id", huge)]
    )
    facts = shield.facts(scope)
    decision = shield.failure_decision(facts, RuntimeError(huge))
    record = BlockEvent.from_decision(decision, facts).as_dict()
    assert len(json.dumps(record)) < 3000
    assert len(record["path"]) == 1024
    assert len(record["user_agent"]) == 512
    assert len(record["request_id"]) <= 64

    async def buffered() -> int:
        store = MemoryStore(max_events=100)
        for _ in range(100):
            await store.append_event(record)
        return sum(len(json.dumps(e.data)) for e in await store.read_events(limit=100))

    assert asyncio.run(buffered()) < 100 * 3000


def test_signed_reports_verify_and_tampering_fails() -> None:
    report = build_report(
        [{"time": 1.0, "action": "allow", "event": "served", "path": "/a", "directives": "d"}],
        {"d": {"headers": {"tdm-reservation": "1"}}},
        site="gallery",
        query={"agent": "GPTBot"},
    )
    document = json.loads(json.dumps(sign(report, KEY.encode())))
    assert verify(document, KEY.encode())["events"][0]["outcome"] == "served"
    document["report"]["events"][0]["outcome"] = "refused"
    with pytest.raises(ReportError, match="changed after signing"):
        verify(document, KEY.encode())
    with pytest.raises(ReportError, match="not with this key"):
        verify(sign(report, KEY.encode()), b"another-key-0123456789")


def test_a_report_tells_the_requests_in_the_order_they_came() -> None:
    """An event is written when its request ends, so a robots.txt fetch may reach the log after
    the page that followed it (CI saw it): the report orders by request time, and its counts
    follow that order; events without a time keep their order, first."""
    events: list[dict[str, Any]] = [
        {"time": 20.0, "action": "allow", "event": "served", "path": "/gallery/1"},
        {"time": 10.0, "event": "robots/fetched", "path": "/robots.txt"},
        {"time": 30.0, "action": "block", "event": "decision", "path": "/art/7.png"},
        {"time": "late", "action": "allow", "event": "served", "path": "/no-time"},
    ]
    report = build_report(events, {}, site="gallery", query={})
    paths = [row["path"] for row in report["events"]]
    assert paths == ["/no-time", "/robots.txt", "/gallery/1", "/art/7.png"]
    assert list(report["counts"].items()) == [("served", 2), ("read robots.txt", 1), ("refused", 1)]
    timed = build_report(events[:3], {}, site="gallery", query={})
    assert list(timed["counts"]) == ["read robots.txt", "served", "refused"]


def test_evidence_cli_on_redis_and_on_a_log_file(
    redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    settings = settings_for(redis_url, redis_prefix)
    log_file = tmp_path / "blocklog.jsonl"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    with block_log_to(handler), serve(app_for(settings), lifespan="on") as server:
        robots = httpx.get(server.url + "/robots.txt", headers={"user-agent": TWITTERBOT})
        httpx.get(server.url + "/gallery/1", headers={"user-agent": TWITTERBOT})
        httpx.get(server.url + "/art/7.png", headers={"user-agent": TWITTERBOT})  # off-limits
    handler.close()
    env = {
        "SCRAPESHIELD_STORE_URL": redis_url,
        "SCRAPESHIELD_STORE_PREFIX": redis_prefix,
        "SCRAPESHIELD_EVIDENCE__SIGNING_KEY": KEY,
        "NO_COLOR": "1",
    }
    for source in ([], ["--file", str(log_file)]):
        shown = cli("evidence", "--agent", "twitterbot", *source, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "3 requests: 1 read robots.txt, 1 served, 1 refused" in shown.stdout
        assert "tdm-reservation: 1" in shown.stdout  # the directives in force
        out = tmp_path / f"report{len(source)}.json"
        signed = cli("evidence", "--agent", "Twitterbot", "--out", str(out), *source, env=env)
        assert signed.returncode == 0, signed.stderr
        document = json.loads(out.read_text())
        report = document["report"]
        outcomes = ["read robots.txt", "served", "refused"]
        assert [e["outcome"] for e in report["events"]] == outcomes
        assert [e["path"] for e in report["events"]] == ["/robots.txt", "/gallery/1", "/art/7.png"]
        [state] = report["directive_states"].values()
        assert state["headers"]["x-robots-tag"] == "noai, noimageai"
        assert state["robots_txt"]["etag"] == robots.headers["etag"]  # the version it read
        assert document["signature"]["alg"] == "HMAC-SHA256"
        good = cli("evidence", "verify", str(out), env=env)
        assert good.returncode == 0, good.stderr
        assert "valid: signed with key" in good.stdout
        document["report"]["events"][2]["outcome"] = "served"
        out.write_text(json.dumps(document))
        bad = cli("evidence", "verify", str(out), env=env)
        assert bad.returncode == 1
        assert "INVALID" in bad.stderr
    by_path = json.loads(cli_process("evidence", "--path", "/art/", "--json", env=env).stdout)
    assert [e["path"] for e in by_path["events"]] == ["/art/7.png"]
    del env["SCRAPESHIELD_EVIDENCE__SIGNING_KEY"]
    nokey = cli("evidence", "--agent", "x", "--out", str(tmp_path / "r.json"), env=env)
    assert nokey.returncode == 2
    assert "no key to sign with" in nokey.stderr
