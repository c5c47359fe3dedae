"""Finding a request's marked route before the router runs: the shield's one regex over all
routes (`RouteIndex.mark_for`) beside Starlette's own matching loop (`route.matches` for each
route until one matches, what the router does after the middleware), on an app of 50 routes.

    .venv/bin/python -m benchmarks.bench_route_marks

Per request the shield pays this only for a (method, path) not in its bounded cache, and an app
without marks pays nothing.
"""

from __future__ import annotations

import timeit
from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route

from scrapeshield import route
from scrapeshield.route_index import RouteIndex


async def plain(request: Any) -> None: ...


@route.limit("5/minute")
async def login(request: Any) -> None: ...


ROUTES: list[BaseRoute] = [
    *(Route(f"/section{i}/{{id:int}}/item/{{slug}}", plain) for i in range(48)),
    Mount("/api", routes=[Route("/login", login, methods=["POST"])]),
    Route("/{rest:path}", plain),
]
CASES = [
    ("GET", "/section0/1/item/x", "the first route"),
    ("GET", "/section47/1/item/x", "the 48th route"),
    ("POST", "/api/login", "in a mount, 49th"),
    ("GET", "/nothing/here", "the catch-all, last"),
]


def _router_match(method: str, path: str) -> BaseRoute | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for candidate in ROUTES:
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return candidate
    return None


def main() -> None:
    index = RouteIndex(ROUTES, {}, frozenset({"default"}))
    print(f"{'request':<28} {'where':<22} {'index µs':>9} {'router µs':>10}")
    for method, path, where in CASES:
        n = 50_000

        def ours(method: str = method, path: str = path) -> object:
            return index.mark_for(method, path)

        def theirs(method: str = method, path: str = path) -> object:
            return _router_match(method, path)

        a = min(timeit.repeat(ours, number=n, repeat=5)) / n * 1e6
        b = min(timeit.repeat(theirs, number=n, repeat=5)) / n * 1e6
        print(f"{method + ' ' + path:<28} {where:<22} {a:>9.2f} {b:>10.2f}")


if __name__ == "__main__":
    main()
