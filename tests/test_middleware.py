"""The middleware through Starlette's TestClient, a real uvicorn server and a FastAPI app."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

import scrapeshield.shield
from scrapeshield import ScrapeShield, Settings, Signal, blocklist
from scrapeshield.defences import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.signals import Decision
from tests.browsers import CHROME_UA, chrome
from tests.servers import serve

BROWSER_UA = CHROME_UA
BROWSER = chrome()
BLOCK_ALL = [blocklist("everyone")]


async def decision_view(request: Request) -> Response:
    decision: Decision | None = getattr(request.state, "scrapeshield", None)
    if decision is None:
        return JSONResponse({"decision": None})
    return JSONResponse(
        {"action": decision.action.value, "rule": decision.rule, "enforced": decision.enforced}
    )


async def echo_ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello " + await websocket.receive_text())
    await websocket.close()


def make_app(**settings: Any) -> Starlette:
    app = Starlette(routes=[Route("/", decision_view), WebSocketRoute("/ws", echo_ws)])
    app.add_middleware(ScrapeShield, settings=Settings(**settings))
    return app


class StaticDetector:
    """A detector that reports fixed signals, or raises, so tests can produce any decision."""

    name = "test"
    uses_store = False

    def __init__(self, signals: Sequence[Signal] = (), error: Exception | None = None) -> None:
        self.signals = signals
        self.error = error

    async def detect(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        if self.error is not None:
            raise self.error
        return self.signals


@pytest.fixture
def detector(monkeypatch: pytest.MonkeyPatch) -> StaticDetector:
    """Shields built in this test use one `StaticDetector` instead of the default ones."""
    found = StaticDetector()
    monkeypatch.setattr(scrapeshield.shield, "build_detectors", lambda settings: [found])
    return found


def blocklog_records(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "scrapeshield.blocklog"]


# -- transports -------------------------------------------------------------------------------


def test_testclient_allows_a_browser_and_attaches_the_decision() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.json() == {"action": "allow", "rule": "allow", "enforced": True}


def test_real_uvicorn_server_allows_and_blocks() -> None:
    app = make_app(blocklist=[blocklist("wget", user_agents=["Wget/*"])])
    with serve(app) as server:
        allowed = httpx.get(server.url + "/", headers=BROWSER)
        blocked = httpx.get(server.url + "/", headers={"user-agent": "Wget/1.21"})
    assert allowed.status_code == 200
    assert allowed.json()["action"] == "allow"
    assert blocked.status_code == 403
    assert blocked.json()["error"] == "block"


def test_fastapi_app_with_the_same_add_middleware_call() -> None:
    api = FastAPI()

    @api.get("/")
    async def root(request: FastAPIRequest) -> dict[str, str]:
        return {"rule": request.state.scrapeshield.rule}

    api.add_middleware(ScrapeShield, settings=Settings(blocklist=[blocklist("x", paths=["/x"])]))
    with TestClient(api) as client:
        assert client.get("/", headers=BROWSER).json() == {"rule": "allow"}
        assert client.get("/x", headers=BROWSER).status_code == 403


def test_plain_asgi_wrapping_works_too() -> None:
    app = ScrapeShield(make_app(), settings=Settings(blocklist=BLOCK_ALL))
    with TestClient(app) as client:
        assert client.get("/", headers=BROWSER).status_code == 403


def test_websocket_and_lifespan_pass_through_untouched() -> None:
    started: list[bool] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started.append(True)
        yield

    app = Starlette(routes=[WebSocketRoute("/ws", echo_ws)], lifespan=lifespan)
    app.add_middleware(ScrapeShield, settings=Settings(blocklist=BLOCK_ALL))
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        ws.send_text("art")
        assert ws.receive_text() == "hello art"
    assert started == [True]


# -- modes ------------------------------------------------------------------------------------


def test_monitor_mode_logs_unenforced_and_lets_the_request_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="scrapeshield.blocklog")
    with TestClient(make_app(mode="monitor", blocklist=BLOCK_ALL)) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.json() == {"action": "block", "rule": "blocklist/everyone", "enforced": False}
    [record] = blocklog_records(caplog)
    assert record["enforced"] is False
    assert record["action"] == "block"


def test_mode_off_does_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="scrapeshield")
    with TestClient(make_app(mode="off", blocklist=BLOCK_ALL)) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.json() == {"decision": None}
    assert blocklog_records(caplog) == []


# -- responses --------------------------------------------------------------------------------


def test_block_page_is_html_for_browsers_with_terms_and_request_id() -> None:
    terms = "https://art.example/terms"
    app = make_app(blocklist=BLOCK_ALL, terms_url=terms, trust_request_id=True)
    with TestClient(app) as client:
        response = client.get("/", headers={**BROWSER, "x-request-id": "req-4242"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="https://art.example/terms"' in response.text
    assert "req-4242" in response.text


def test_block_is_json_for_other_clients_with_terms_and_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="scrapeshield.blocklog")
    app = make_app(blocklist=BLOCK_ALL, terms_url="https://art.example/terms")
    with TestClient(app) as client:
        response = client.get("/", headers={"accept": "application/json", "user-agent": "x"})
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "block"
    assert body["terms"] == "https://art.example/terms"
    [record] = blocklog_records(caplog)
    assert body["request_id"] == record["request_id"]
    assert len(body["request_id"]) >= 8


def test_throttle_is_429_with_retry_after(detector: StaticDetector) -> None:
    detector.signals = [Signal("ratelimit/test", 0.0, "too fast", retry_after=7.2)]
    with TestClient(make_app()) as client:
        response = client.get("/", headers={"user-agent": "x", "accept": "application/json"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "8"
    assert response.json()["retry_after"] == 8


def test_custom_policy_rule_can_throttle(detector: StaticDetector) -> None:
    detector.signals = [Signal("test/slow-down", 1.0, retry_after=3)]
    policy = {"rules": [{"name": "slow", "signals": ["test/*"], "action": "throttle"}]}
    with TestClient(make_app(policy=policy)) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"


def test_custom_responder_replaces_the_default_response() -> None:
    seen: list[str] = []

    def responder(decision: Decision, facts: Facts) -> Response:
        seen.append(decision.rule)
        return PlainTextResponse(f"go away, {facts.client_key}", 418)

    with TestClient(make_app(blocklist=BLOCK_ALL, responder=responder)) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 418
    assert response.text.startswith("go away")
    assert seen == ["blocklist/everyone"]


def test_async_responder_returning_none_falls_back_to_default() -> None:
    async def responder(decision: Decision, facts: Facts) -> None:
        return None

    with TestClient(make_app(blocklist=BLOCK_ALL, responder=responder)) as client:
        assert client.get("/", headers=BROWSER).status_code == 403


def test_raising_responder_falls_back_to_default(caplog: pytest.LogCaptureFixture) -> None:
    def responder(decision: Decision, facts: Facts) -> Response:
        raise RuntimeError("responder bug")

    with TestClient(make_app(blocklist=BLOCK_ALL, responder=responder)) as client:
        assert client.get("/", headers=BROWSER).status_code == 403
    assert "responder failed" in caplog.text


# -- failures ---------------------------------------------------------------------------------


def test_detector_exception_fails_open(
    detector: StaticDetector, caplog: pytest.LogCaptureFixture
) -> None:
    detector.error = RuntimeError("detector bug")
    app = make_app()
    with serve(app) as server:
        response = httpx.get(server.url + "/", headers=BROWSER)
    assert response.status_code == 200
    assert response.json()["action"] == "allow"
    assert "detector test failed" in caplog.text


def test_detector_exception_with_fail_closed_gives_503(detector: StaticDetector) -> None:
    detector.error = RuntimeError("detector bug")
    with TestClient(make_app(fail_mode="closed")) as client:
        response = client.get("/", headers={"user-agent": "x", "accept": "application/json"})
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert response.json()["error"] == "unavailable"


def test_broken_pipeline_never_gives_500(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Decision:  # fails before any await
        raise RuntimeError("pipeline bug")

    monkeypatch.setattr(scrapeshield.shield.Shield, "decide_now", explode)
    with TestClient(make_app()) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.json()["rule"] == "internal/fail-open"


def test_broken_pipeline_with_fail_closed_gives_503(monkeypatch: pytest.MonkeyPatch) -> None:
    async def explode(*args: Any, **kwargs: Any) -> Decision:  # fails once awaited
        raise RuntimeError("pipeline bug")

    monkeypatch.setattr(scrapeshield.shield.Shield, "decide_now", explode)
    with TestClient(make_app(fail_mode="closed")) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_a_broken_directive_endpoint_lookup_still_decides(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def matches(self, facts: Facts) -> bool:
            raise RuntimeError("endpoint bug")

        async def __call__(self, *args: Any) -> None:
            raise AssertionError("never called")

    monkeypatch.setattr(scrapeshield.shield, "build_endpoints", lambda settings: [Broken()])
    with TestClient(make_app()) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.json()["action"] == "allow"
    assert "endpoint lookup failed" in caplog.text
    with TestClient(make_app(blocklist=BLOCK_ALL)) as client:
        assert client.get("/", headers=BROWSER).status_code == 403


def test_robots_txt_is_served_before_any_blocking() -> None:
    with TestClient(make_app(blocklist=BLOCK_ALL)) as client:
        response = client.get("/robots.txt", headers={"user-agent": "GPTBot/1.0"})
    assert response.status_code == 200
    assert "User-agent:" in response.text


# -- response filters that answer at once -----------------------------------------------------


class NowFilter:
    """A response filter that answers at once (`answers_now`), or raises."""

    answers_now = True

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.statuses: list[int] = []

    def headers_for(
        self, facts: Facts, decision: Decision, status: int, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        if self.error is not None:
            raise self.error
        self.statuses.append(status)
        return [(b"x-now", decision.rule.encode())]


def filtered_app(response_filter: Any) -> Starlette:
    app = Starlette(routes=[Route("/", decision_view)])
    shield = scrapeshield.shield.Shield(Settings(directives={"headers": False}))
    shield.response_filters.append(response_filter)
    app.add_middleware(ScrapeShield, shield=shield)
    return app


def test_a_filter_that_answers_at_once_adds_its_headers_to_the_apps_response() -> None:
    now = NowFilter()
    with TestClient(filtered_app(now)) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["x-now"] == "allow"
    assert now.statuses == [200]


def test_a_filter_that_answers_at_once_and_raises_never_costs_the_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(filtered_app(NowFilter(RuntimeError("filter bug")))) as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.json()["action"] == "allow"
    assert "x-now" not in response.headers
    assert "could not add response headers" in caplog.text
