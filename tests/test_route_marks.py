"""Per-route control in code (`scrapeshield.route`) and `[routes.<name>]`: read once from the app's
routes, matched in the router's order, and acted on by a real server on both loops."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from scrapeshield import ConfigurationError, ScrapeShield, Settings, Shield, route
from scrapeshield.marks import RouteSpec, marks_of
from scrapeshield.route_index import RouteIndex
from scrapeshield.shield import synthetic_scope
from tests.servers import LOOPS, serve

pytestmark = pytest.mark.clock_hour

GROUPS = frozenset({"default", "api", "images"})


async def _ok(request: Request) -> Response:
    decision = request.state.scrapeshield
    return JSONResponse({"rule": decision.rule, "action": decision.action.value})


@route.limit("2/day")
async def login(request: Request) -> Response:
    return await _ok(request)


@route.exempt
async def status(request: Request) -> Response:
    return await _ok(request)


@route.group("api")
async def item(request: Request) -> Response:
    return await _ok(request)


@route.budget
async def original(request: Request) -> Response:
    return await _ok(request)


async def plain(request: Request) -> Response:
    return PlainTextResponse("plain")


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login, methods=["POST"]),
        Route("/status", status),
        Route("/shadow/{x}", plain),  # earlier and unmarked: it wins over the marked one below
        Route("/shadow/marked", status),
        Mount("/v1", routes=[Route("/items/{id:int}", item), Route("/art", plain)], name="v1"),
        Route("/art/{id}/original", original),
        Route("/{rest:path}", plain),
    ]


def index(named: dict[str, Any] | None = None) -> RouteIndex:
    specs = {k: RouteSpec(**v) for k, v in (named or {}).items()}
    return RouteIndex(routes(), specs, GROUPS)


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("POST", "/login", "login"),
        ("GET", "/login", None),  # POST only: the router passes on to /{rest:path}
        ("GET", "/status", "status"),
        ("GET", "/shadow/marked", None),  # the router reaches /shadow/{x} first
        ("GET", "/v1/items/7", "v1:item"),
        ("GET", "/v1/items/x", None),  # not an int: the convertor's regex is kept
        ("GET", "/v1/art", None),
        ("GET", "/art/3/original", "original"),
        ("GET", "/elsewhere", None),
    ],
)
def test_the_index_answers_like_the_router(method: str, path: str, key: str | None) -> None:
    mark = index().mark_for(method, path)
    assert (mark.key if mark is not None else None) == key


def test_settings_routes_by_name_equal_the_decorators() -> None:
    found = index({"plain": {"exempt": True}, "v1": {"group": "images"}})
    at_mount = found.mark_for("GET", "/v1/art")  # a named mount's spec covers its routes
    assert at_mount is not None
    assert at_mount.group == "images"
    inner = found.mark_for("GET", "/v1/items/7")
    assert inner is not None
    assert inner.group == "api"  # the route's own mark over its mount's
    rest = found.mark_for("GET", "/elsewhere")
    assert rest is not None
    assert rest.exempt


def test_bad_marks_fail_with_the_setting_named() -> None:
    with pytest.raises(ConfigurationError, match=r"routes\.nope: no route of the app"):
        index({"nope": {"exempt": True}})
    with pytest.raises(ConfigurationError, match=r"routes\.plain\.group: unknown group 'pics'"):
        index({"plain": {"group": "pics"}})
    with pytest.raises(
        ConfigurationError, match=r"route mark on '.*\.f': limits: 'lots' is not a limit list"
    ):

        @route.limit("lots")
        def f() -> None: ...

    with pytest.raises(ConfigurationError, match="cost 5 exceeds"):
        route.limit("2/minute", cost=5)(lambda: None)


def test_stacked_marks_combine() -> None:
    @route.exempt
    @route.group("api")
    def both() -> None: ...

    spec = marks_of(both)
    assert spec is not None
    assert (spec.exempt, spec.group) == (True, "api")
    assert spec.describe() == "exempt from rate limits, group api"


def test_routes_added_later_are_read() -> None:
    app = Starlette(routes=[Route("/a", plain)])
    shield = Shield(Settings())
    shield.bind_routes(app.routes)
    app.add_route("/b", status)  # e.g. include_router after the middleware was built
    facts = shield.facts(synthetic_scope(path="/b"))
    assert facts.route is not None
    assert facts.route.key == "status"


def _app(settings: Settings) -> Starlette:
    app = Starlette(routes=routes())
    app.add_middleware(ScrapeShield, settings=settings)
    return app


def _settings() -> Settings:
    return Settings(
        fingerprint={"enabled": False},
        behaviour={"enabled": False},
        challenge={"enabled": False},
        identity={"budgets": {"visitor": {"hour": 2, "day": 2, "refuse_factor": 1}}},
        ratelimit={"groups": {"default": {"limits": "3/day"}, "api": {"limits": "100/minute"}}},
    )


@pytest.mark.parametrize("loop", LOOPS)
def test_marks_act_on_a_real_server(loop: str) -> None:
    with serve(_app(_settings()), loop=loop) as server, httpx.Client(base_url=server.url) as c:
        assert [c.post("/login").status_code for _ in range(3)] == [200, 200, 429]
        # exempt: far past the default group's 3 a day
        assert {c.get("/status").status_code for _ in range(6)} == {200}
        # the api group's own limits, not default's
        assert {c.get("/v1/items/1").status_code for _ in range(6)} == {200}
        # login's counter is its own: the default group still has its 3
        assert [c.get(f"/page/{n}").status_code for n in range(4)] == [200, 200, 200, 429]


@pytest.mark.parametrize("loop", LOOPS)
def test_budget_mark_counts_originals(loop: str) -> None:
    settings = _settings()
    with serve(_app(settings), loop=loop) as server, httpx.Client(base_url=server.url) as c:
        rules = [c.get(f"/art/{n}/original").json()["rule"] for n in range(2)]
        assert rules == ["allow", "allow"]
        over = c.get("/art/9/original")
        assert over.status_code == 403, over.text  # past the budget, refused at once here
    # the control: the same three fetches of an unmarked route are within every budget
    with serve(_app(settings), loop=loop) as server, httpx.Client(base_url=server.url) as c:
        assert [c.get(f"/v1/art?n={n}").status_code for n in range(3)] == [200, 200, 200]


def test_a_bad_mark_fails_when_the_middleware_is_built() -> None:
    """At start-up (ScrapeShield(app) at import, or Starlette's first build of its stack),
    never per request."""
    settings = Settings(routes={"nope": {"exempt": True}})
    with pytest.raises(ConfigurationError, match=r"routes\.nope"):
        ScrapeShield(Starlette(routes=routes()), settings=settings)
    app = _app(settings)
    with pytest.raises(ConfigurationError, match=r"routes\.nope"):
        app.build_middleware_stack()


def test_the_documented_fastapi_example_runs() -> None:
    """docs/rate-limiting.md's decorator example, executed: every mark lands on its route."""
    import re
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "rate-limiting.md").read_text("utf-8")
    section = text.split("## Per-route control in code", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "rate-limiting.md", "exec"), namespace)
    app = namespace["app"]
    shield = Shield(Settings())
    shield.bind_routes(app.routes)
    expected = {
        ("POST", "/login"): "limits 5/minute (cost 1, throttle)",
        ("GET", "/status"): "exempt from rate limits",
        ("GET", "/v1/artworks/3"): "group api",
        ("GET", "/art/3/original"): "spends the originals budgets",
    }
    for (method, path), described in expected.items():
        facts = shield.facts(synthetic_scope(method=method, path=path))
        assert facts.route is not None, path
        assert facts.route.spec.describe() == described
    assert shield.facts(synthetic_scope(path="/v1/artworks/3")).route_group == "api"


def test_fastapi_included_routers_are_read_with_their_prefixes() -> None:
    from fastapi import APIRouter, FastAPI

    inner = APIRouter(prefix="/items")

    @inner.get("/{item_id}")
    @route.group("api")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    outer = APIRouter(prefix="/v2")
    outer.include_router(inner)
    app = FastAPI()

    @app.get("/v2/items/first")  # registered before the router: the router order holds
    async def first() -> dict[str, str]:
        return {}

    app.include_router(outer)
    shield = Shield(Settings(routes={"first": {"exempt": True}}))
    shield.bind_routes(app.routes)
    marked = shield.facts(synthetic_scope(path="/v2/items/3")).route
    assert marked is not None
    assert (marked.key, marked.group) == ("get_item", "api")
    shadowing = shield.facts(synthetic_scope(path="/v2/items/first")).route
    assert shadowing is not None
    assert shadowing.exempt
    assert shield.facts(synthetic_scope(path="/v2/items/3", method="POST")).route is None


def test_marks_on_classes_and_partials_are_read() -> None:
    import functools

    from starlette.endpoints import HTTPEndpoint

    @route.exempt
    class Status(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            return PlainTextResponse("up")

    @route.limit("1/minute")
    async def report(request: Request, kind: str) -> Response:
        return PlainTextResponse(kind)

    found = RouteIndex(
        [Route("/status", Status), Route("/report", functools.partial(report, kind="x"))],
        {},
        GROUPS,
    )
    status_mark = found.mark_for("GET", "/status")
    report_mark = found.mark_for("GET", "/report")
    assert status_mark is not None
    assert status_mark.exempt
    assert report_mark is not None
    assert report_mark.spec.limits == "1/minute"  # (Starlette names a partial's route "partial")
