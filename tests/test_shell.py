"""The middleware's shell around a decision, made with fewer calls (docs/log/architecture.md,
"The shell of a leased request"): the same facts, context, endpoints and request state."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from scrapeshield import ScrapeShield, Settings, Shield
from scrapeshield.defences import RequestContext
from scrapeshield.facts import Facts, FactsBuilder
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action, Decision
from tests.browsers import chrome

SETTINGS = Settings(challenge={"enabled": False})


async def page(request: Request) -> Response:
    return PlainTextResponse("page")


def client_of(shield: Shield) -> TestClient:
    app = Starlette(routes=[Route("/", page), Route("/other", page)])
    app.add_middleware(ScrapeShield, shield=shield)
    return TestClient(app, headers=chrome())


def test_request_ids_are_the_random_bits_as_16_hex_digits_built_or_repeated() -> None:
    builder = FactsBuilder(Settings())
    scope = synthetic_scope()
    random.seed(19)  # the first two requests built, the next from the memo
    ids = [builder.build(scope).request_id for _ in range(200)]
    random.seed(19)
    assert ids == [f"{random.getrandbits(64):016x}" for _ in range(200)]


class Noting(Shield):
    """A shield whose own `facts` and `context` the middleware must still call."""

    def __init__(self) -> None:
        super().__init__(SETTINGS)
        self.built = 0

    def facts(self, scope: Any) -> Facts:
        self.built += 1
        return super().facts(scope)

    def context(self, *, dry_run: bool = False) -> RequestContext:
        ctx = super().context(dry_run=dry_run)
        ctx.response_headers.append((b"x-noted", b"yes"))
        return ctx


def test_a_shield_subclass_own_facts_and_context_are_called() -> None:
    shield = Noting()
    with client_of(shield) as client:
        for _ in range(5):  # past the facts' memo and a lease's grant
            response = client.get("/")
            assert response.status_code == 200
            assert response.headers["x-noted"] == "yes"
    assert shield.built == 5


def fields(ctx: RequestContext) -> tuple[Any, ...]:
    return (
        ctx.store,
        list(ctx.response_headers),
        ctx.store_failed,
        dict(ctx.notes),
        ctx.banned,
        ctx.ban_read,
        ctx.app_headers,
    )


def test_the_middleware_context_is_the_shield_context() -> None:
    shield = Shield(SETTINGS)
    seen: list[tuple[Any, ...]] = []
    decide_now = shield.decide_now

    def noting(facts: Facts, ctx: RequestContext) -> Any:
        seen.append(fields(ctx))  # as the middleware made it
        return decide_now(facts, ctx)

    shield.decide_now = noting  # type: ignore[method-assign]
    with client_of(shield) as client:
        for _ in range(3):
            client.get("/")
    assert seen == [fields(shield.context())] * 3
    assert shield.context(dry_run=True).notes == {"dry_run": True}


class Named:
    """An endpoint answering one path, added to the shield's list after it started."""

    def __init__(self, path: str, body: bytes) -> None:
        self.path = path
        self.body = body

    def matches(self, facts: Facts) -> bool:
        return facts.path == self.path

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": self.body})


class Unnamed(Named):
    """Matches by something other than its path: every request must ask it."""

    def __init__(self, body: bytes) -> None:
        super().__init__("", body)
        del self.path

    def matches(self, facts: Facts) -> bool:
        return facts.path.endswith("/other")


def test_endpoints_added_or_replaced_after_start_answer_through_the_middleware() -> None:
    shield = Shield(SETTINGS)
    with client_of(shield) as client:
        for _ in range(3):
            assert client.get("/other").text == "page"
        shield.endpoints.append(Named("/other", b"appended"))
        assert client.get("/other").text == "appended"
        shield.endpoints[-1] = Named("/other", b"in place")  # the same length
        assert client.get("/other").text == "in place"
        shield.endpoints.pop()
        assert client.get("/other").text == "page"
        shield.endpoints.append(Unnamed(b"unnamed"))  # no path: asked about every request
        assert client.get("/other").text == "unnamed"
        assert client.get("/").text == "page"


def test_the_decision_joins_a_request_state_the_server_gave() -> None:
    states: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        states.append(scope["state"])
        await PlainTextResponse("ok")(scope, receive, send)

    middleware = ScrapeShield(app, shield=Shield(SETTINGS))
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    browser = list(chrome().items())
    given: dict[str, Any] = {
        "pool": "the app's"
    }  # (uvicorn gives each request a copy of the lifespan's)
    with_state = {**synthetic_scope(headers=browser), "state": given}
    asyncio.run(middleware(with_state, receive, send))
    asyncio.run(middleware(synthetic_scope(headers=browser), receive, send))
    assert statuses == [200, 200]
    assert states[0] is given
    assert set(given) == {"pool", "scrapeshield"}
    assert isinstance(given["scrapeshield"], Decision)
    assert given["scrapeshield"].action is Action.ALLOW
    assert set(states[1]) == {"scrapeshield"}
