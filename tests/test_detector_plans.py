"""Detector plans: which detectors a kind of request meets is decided once per kind (method,
route group, marked route) from the detectors' `runs_on`; a detector that declines a kind is
never asked about its requests."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.detection import _MAX_PLANS, Plans
from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.route_index import RouteMark
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Signal
from scrapeshield.store import MemoryStore

SETTINGS = Settings(
    fingerprint={"enabled": False},
    route_groups=[{"name": "api", "paths": ["/api/*"]}],
)


class PagesOnly(Immediate):
    """Counts page views: nothing to do for anything but a GET outside the `api` group."""

    name = "pages-only"
    uses_store = False

    def __init__(self, error: Exception | None = None) -> None:
        self.asked: list[tuple[str, str, RouteMark | None]] = []
        self.seen: list[str] = []
        self.error = error

    def runs_on(self, method: str, route_group: str, route: RouteMark | None) -> bool:
        self.asked.append((method, route_group, route))
        if self.error is not None:
            raise self.error
        return method == "GET" and route_group != "api"

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        self.seen.append(f"{facts.method} {facts.path}")
        return (Signal("test/page", 1.0),)


class Everywhere(Immediate):
    name = "everywhere"
    uses_store = False

    def __init__(self) -> None:
        self.seen: list[str] = []

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        self.seen.append(f"{facts.method} {facts.path}")
        return ()


def shield_with(*detectors: object) -> Shield:
    shield = Shield(SETTINGS, store=MemoryStore())
    shield.detectors[:] = detectors  # type: ignore[assignment]
    return shield


async def decide(shield: Shield, method: str, path: str) -> list[str]:
    decision = await shield.decide(shield.facts(synthetic_scope(path=path, method=method)))
    return [s.name for s in decision.reasons]


async def test_a_detector_that_declines_a_kind_never_sees_its_requests() -> None:
    pages, every = PagesOnly(), Everywhere()
    shield = shield_with(pages, every)
    assert await decide(shield, "GET", "/artworks/1") == ["test/page"]
    assert await decide(shield, "POST", "/artworks/1") == []
    assert await decide(shield, "GET", "/api/works") == []
    assert pages.seen == ["GET /artworks/1"]
    assert every.seen == ["GET /artworks/1", "POST /artworks/1", "GET /api/works"]


async def test_the_plan_is_made_once_per_kind_not_per_request() -> None:
    pages = PagesOnly()
    shield = shield_with(pages, Everywhere())
    for path in ("/artworks/1", "/artworks/2", "/artworks/3", "/api/a", "/api/b"):
        await decide(shield, "GET", path)
    assert pages.asked == [("GET", "default", None), ("GET", "api", None)]
    assert pages.seen == ["GET /artworks/1", "GET /artworks/2", "GET /artworks/3"]


async def test_a_runs_on_that_raises_keeps_the_detector(caplog: pytest.LogCaptureFixture) -> None:
    pages = PagesOnly(RuntimeError("plan bug"))
    shield = shield_with(pages)
    assert await decide(shield, "POST", "/artworks/1") == ["test/page"]
    assert "could not say whether it runs on" in caplog.text


async def test_a_changed_list_is_planned_again() -> None:
    pages, every = PagesOnly(), Everywhere()
    shield = shield_with(every)
    await decide(shield, "POST", "/x")
    shield.detectors.append(pages)
    await decide(shield, "GET", "/x")
    await decide(shield, "POST", "/x")
    assert pages.seen == ["GET /x"]
    assert every.seen == ["POST /x", "GET /x", "POST /x"]


def test_plans_stay_bounded_whatever_methods_clients_send() -> None:
    plans = Plans([PagesOnly()])
    shield = shield_with()
    for n in range(3 * _MAX_PLANS):
        facts = shield.facts(synthetic_scope(path="/x", method=f"M{n}"))
        assert plans.for_request(facts).entries == []
    assert len(plans._by_kind) <= _MAX_PLANS


def test_without_runs_on_every_request_meets_every_detector() -> None:
    plans = Plans([Everywhere()])
    assert plans.names_for("POST", "api") == ["everywhere"]
    assert Plans([PagesOnly()]).names_for("POST", "api") == []


def test_the_shipped_behaviour_detector_meets_only_gets() -> None:
    """Behaviour has nothing to do for other methods (no kind): it declines them."""
    shield = Shield(Settings(), store=MemoryStore())
    plans = Plans(shield.detectors)
    gets = plans.names_for("GET", "default")
    assert "behaviour" in gets
    assert plans.names_for("POST", "default") == [n for n in gets if n != "behaviour"]
