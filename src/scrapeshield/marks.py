"""Per-route control in code: marks on Starlette/FastAPI endpoints, equal to `[routes.<name>]`.

    from scrapeshield import route

    @route.limit("5/minute")          # this route's own limits (instead of its group's)
    async def login(request): ...

    @route.exempt                     # never rate limited (still fingerprinted)
    async def status(request): ...

    @route.group("api")               # the route group `api`: its limits, no challenge...
    async def artwork_json(request): ...

    @route.budget                     # an original: spends the visitor's originals budgets
    async def original(request): ...

A mark is a `RouteSpec` kept on the endpoint (function, method or endpoint class); stacked marks
combine. `[routes.<route name>]` in settings builds the same spec from TOML, by the route's name
(Starlette's `Route(..., name=...)`, by default the endpoint's name; `mount:route` under a named
`Mount`). Both are read once from the app's routes (`scrapeshield.route_index`), not per request.
Arguments are checked when the decorator runs, so a bad limit fails at import.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import limits as limits_lib
from pydantic import Field, ValidationError, field_validator, model_validator

from scrapeshield.errors import ConfigurationError
from scrapeshield.ratelimit.settings import GroupAction
from scrapeshield.settings_base import Section

MARK_ATTR = "__scrapeshield_route__"
F = TypeVar("F")


class RouteSpec(Section):
    """What one route is, for the shield: exempt from rate limits, its route group, its own
    limits (client key, `cost` units a request, `action` when exceeded), an original that
    spends the identity budgets (`budget`)."""

    exempt: bool = False
    group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    limits: str = ""
    cost: int = Field(default=1, ge=1, le=1000)
    action: GroupAction = "throttle"
    budget: bool = False

    @field_validator("limits")
    @classmethod
    def _limits(cls, value: str) -> str:
        text = value.strip()
        if text:
            try:
                items = limits_lib.parse_many(text)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a limit list (expected e.g. '5/minute;100/day')"
                ) from None
            if not items:
                raise ValueError(f"{value!r} is not a limit list")
        return text

    @model_validator(mode="after")
    def _cost_fits(self) -> RouteSpec:
        for item in limits_lib.parse_many(self.limits) if self.limits else ():
            if item.amount < self.cost:
                raise ValueError(f"cost {self.cost} exceeds the limit {self.limits!r}")
        return self

    def merged(self, other: RouteSpec | None) -> RouteSpec:
        """This spec with what `other` sets explicitly on top (a route's own over its mount's)."""
        if other is None:
            return self
        return RouteSpec(**{**self.model_dump(), **other.model_dump(exclude_unset=True)})

    def describe(self) -> str:
        """One line for `explain`: `exempt, group api, limits 5/minute (cost 1, throttle)`."""
        parts = []
        if self.exempt:
            parts.append("exempt from rate limits")
        if self.group:
            parts.append(f"group {self.group}")
        if self.limits:
            parts.append(f"limits {self.limits} (cost {self.cost}, {self.action})")
        if self.budget:
            parts.append("spends the originals budgets")
        return ", ".join(parts) or "no marks"


def marks_of(endpoint: Any) -> RouteSpec | None:
    """The spec marked on an endpoint (a function, a bound method's function, a class, or
    what a `functools.partial` wraps, unless the partial is marked itself)."""
    found = getattr(endpoint, MARK_ATTR, None)
    while found is None and isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
        found = getattr(endpoint, MARK_ATTR, None)
    if found is None:
        found = getattr(getattr(endpoint, "__func__", None), MARK_ATTR, None)
    return found if isinstance(found, RouteSpec) else None


def _mark(endpoint: F, **values: Any) -> F:
    current = marks_of(endpoint)
    known = current.model_dump(exclude_unset=True) if current is not None else {}
    try:
        spec = RouteSpec(**{**known, **values})
    except ValidationError as exc:
        problems = [
            f"route mark on {getattr(endpoint, '__qualname__', endpoint)!r}: "
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise ConfigurationError(problems) from None
    setattr(endpoint, MARK_ATTR, spec)
    return endpoint


class RouteMarks:
    """The decorators, as one object (`scrapeshield.route`), in the manner of slowapi's
    `@limiter.limit`: each returns the endpoint itself, marked."""

    def exempt(self, endpoint: F) -> F:
        """Never counted by the rate limiter (the other defences still apply)."""
        return _mark(endpoint, exempt=True)

    def group(self, name: str) -> Callable[[F], F]:
        """Put the route in route group `name` (one of `route_groups`, or a limit group)."""
        return lambda endpoint: _mark(endpoint, group=name)

    def limit(
        self, limits: str, *, cost: int = 1, action: GroupAction = "throttle"
    ) -> Callable[[F], F]:
        """The route's own limits per client (`limits` syntax: `"5/minute;100/day"`), counted
        apart from any group, `cost` units a request; `action` when exceeded: throttle (429),
        block or challenge."""
        return lambda endpoint: _mark(endpoint, limits=limits, cost=cost, action=action)

    def budget(self, endpoint: F) -> F:
        """Count each GET as an original, against the visitor's originals budgets."""
        return _mark(endpoint, budget=True)


route = RouteMarks()
