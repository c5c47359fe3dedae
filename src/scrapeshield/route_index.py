"""Which marked route a request will reach, known before the app's router runs.

The middleware runs before routing, so `scope["route"]`/`scope["endpoint"]` are not there yet.
Running the router's matching ourselves on every request would double its cost. Instead, once
(at start-up, or at the first request if the routes are only then known), the app's route tree is
walked: every `Route` (FastAPI's `APIRoute` too), under every `Mount` prefix, becomes one
alternative of a single regex over `"<METHOD> <path>"`, in the router's own order, so its first
match is the route Starlette's router will pick (an earlier unmarked route still shadows a later
marked one; a route that matches the path but not the method is passed over, as the router does).
Each alternative carries the route's marks (decorators on its endpoint, merged over its mount's
and its `[routes.<name>]` entry). Per request: one regex match, then a bounded cache by path.

Not read: routes under `Host` (matched on the Host header, not the path) and websockets. A mounted
app without routes of its own is one opaque alternative (its prefix): nothing there is marked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.routing import BaseRoute, Host, Mount, Route, WebSocketRoute, compile_path

from scrapeshield.errors import ConfigurationError
from scrapeshield.marks import RouteSpec, marks_of

_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")
_MAX_DEPTH = 16  # middleware layers searched for the router, and mount nesting


class RouteMark:
    """A marked route as a request meets it: its key (name or path), its merged spec, and the
    name of its own limit group (`route.<key>`) when it has limits."""

    __slots__ = ("budget", "exempt", "group", "key", "limit_group", "spec")

    def __init__(self, key: str, spec: RouteSpec) -> None:
        self.key = key
        self.spec = spec
        self.exempt = spec.exempt
        self.group = spec.group
        self.budget = spec.budget
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", key.replace(":", "."))
        self.limit_group = f"route.{safe}" if spec.limits else None

    def __repr__(self) -> str:
        return f"RouteMark({self.key!r}, {self.spec.describe()})"


def find_routes(app: Any) -> Sequence[BaseRoute] | None:
    """The route list of `app`, or of the app under its middleware (`.app`), or None."""
    for _ in range(_MAX_DEPTH):
        routes = getattr(app, "routes", None)
        if isinstance(routes, list):
            return routes
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


class RouteIndex:
    """Compiled once from an app's routes; `mark_for(method, path)` per (uncached) request."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        named: Mapping[str, RouteSpec],
        known_groups: frozenset[str],
    ) -> None:
        self.routes = routes
        self._size = len(routes)
        self.marks: list[RouteMark | None] = []
        self.names: set[str] = set()
        alternatives: list[str] = []
        self._walk(routes, "", "", None, named, alternatives)
        problems = [
            f"routes.{name}: no route of the app is named {name!r} (route names: "
            f"{', '.join(sorted(self.names)) or 'none'})"
            for name in named
            if name not in self.names
        ]
        problems += [
            f"routes.{mark.key}.group: unknown group {mark.group!r} (route_groups or "
            f"ratelimit.groups: {', '.join(sorted(known_groups))})"
            for mark in self.marks
            if mark is not None and mark.group is not None and mark.group not in known_groups
        ]
        if problems:
            raise ConfigurationError(problems)
        self.any = any(mark is not None for mark in self.marks)
        body = "|".join(f"(?P<r{n}>{alt})" for n, alt in enumerate(alternatives))
        self._regex = re.compile(body) if self.any else None

    def _walk(
        self,
        routes: Sequence[BaseRoute],
        prefix: str,
        name_prefix: str,
        inherited: RouteSpec | None,
        named: Mapping[str, RouteSpec],
        out: list[str],
    ) -> None:
        for route in routes:
            if isinstance(route, WebSocketRoute | Host):
                continue
            if isinstance(route, Mount):
                name = f"{name_prefix}{route.name}" if route.name else ""
                spec = _merge(inherited, named.get(name) if name else None)
                if name:
                    self.names.add(name)
                if route.routes and len(prefix) < 4096:
                    below = f"{name}:" if name else name_prefix
                    self._walk(route.routes, prefix + route.path, below, spec, named, out)
                    continue
                key = name or prefix + route.path
                self._add(prefix + route.path + "/{path:path}", None, key, spec, out)
            elif isinstance(route, Route):
                self._route(route, route, prefix, name_prefix, inherited, named, out)
            elif callable(candidates := getattr(route, "effective_candidates", None)):
                # FastAPI's included router (newer FastAPI): its routes with their full paths
                for found in candidates():
                    if callable(getattr(found, "effective_candidates", None)):
                        self._walk([found], prefix, name_prefix, inherited, named, out)
                        continue
                    inner = getattr(found, "starlette_route", None) or found.original_route
                    if isinstance(inner, Route):
                        self._route(found, inner, prefix, name_prefix, inherited, named, out)

    def _route(
        self,
        found: Any,
        inner: Route,
        prefix: str,
        name_prefix: str,
        inherited: RouteSpec | None,
        named: Mapping[str, RouteSpec],
        out: list[str],
    ) -> None:
        """One route: `found` is the route, or FastAPI's effective context of one (whose path,
        methods, name and endpoint are the route's as included)."""
        path = getattr(found, "path", None) or inner.path
        methods = getattr(found, "methods", None) or inner.methods
        endpoint = getattr(found, "endpoint", None) or inner.endpoint
        short = getattr(found, "name", None) or inner.name
        name = f"{name_prefix}{short}" if short else ""
        if name:
            self.names.add(name)
        spec = _merge(_merge(inherited, named.get(name)), marks_of(endpoint))
        self._add(prefix + path, methods, name or prefix + path, spec, out)

    def _add(
        self, path: str, methods: set[str] | None, key: str, spec: RouteSpec | None, out: list[str]
    ) -> None:
        pattern = _NAMED_GROUP.sub("(?:", compile_path(path)[0].pattern).removeprefix("^")
        verbs = "|".join(sorted(re.escape(m.upper()) for m in methods)) if methods else "[^ ]+"
        out.append(f"(?:{verbs}) {pattern}")
        self.marks.append(RouteMark(key, spec) if spec is not None else None)

    def refresh_size(self) -> None:
        self._size = len(self.routes)

    def stale(self) -> bool:
        """Routes were added to the top-level list since (FastAPI's `include_router` later)."""
        return len(self.routes) != self._size

    def mark_for(self, method: str, path: str) -> RouteMark | None:
        if self._regex is None:
            return None
        found = self._regex.match(f"{method} {path}")
        if found is None or found.lastgroup is None:
            return None
        return self.marks[int(found.lastgroup[1:])]


def _merge(base: RouteSpec | None, top: RouteSpec | None) -> RouteSpec | None:
    if base is None:
        return top
    return base.merged(top)


def route_path(scope: Mapping[str, Any]) -> str:
    """The path the router matches: `scope["path"]` without the app's `root_path` (as
    Starlette's router reads it, so a mounted or prefixed app matches the same routes)."""
    path: str = scope.get("path") or "/"
    root: str = scope.get("root_path") or ""
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path
