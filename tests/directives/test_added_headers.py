"""The directive headers found by dict lookups (`DirectiveHeaders.added`, the middleware's
`_add_directives`) are, for every response, the plain computation's: `directive_headers` for
the path's preferences when the response is a 2xx of a configured media type. Checked on random
responses (statuses, Content-Types in any case and number, the app's own directive headers,
path rules, settings), on a flood of distinct ones (the memos stay bounded), and through a real
uvicorn on both loops and both stores, leases on and off, every response's whole header list."""

from __future__ import annotations

import itertools
import random
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from scrapeshield import Settings, Shield, middleware
from scrapeshield.directives.headers import (
    DirectiveHeaders,
    MediaTypes,
    directive_headers,
    wants_directives,
)
from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.settings import DirectivesSettings
from tests.browsers import chrome
from tests.servers import LOOPS, RedisServer, closing_app, redis_store_settings, serve

Headers = list[tuple[bytes, bytes]]
PATHS = ["/", "/open/1", "/open/9/x", "/open/", "/closed/2", "/images/a.png", "/o"]
RULES: list[dict[str, Any]] = [
    {"prefix": "/open/", "train_ai": True},
    {"prefix": "/open/9", "search": False},
    {"prefix": "/closed/", "train_ai": False, "search": False},
]
CONTENT_TYPES = [
    b"text/html",
    b"text/html; charset=utf-8",
    b"TEXT/HTML; Charset=UTF-8",
    b" text/html ;q=1",
    b"image/png",
    b"Image/WebP",
    b"image/",
    b"application/json",
    b"application/xhtml+xml",
    b"text/plain",
    b"",
    b";",
    b"text/htmlx",
    b"caf\xe9/html",
]
OTHER_NAMES = [b"content-length", b"cache-control", b"set-cookie", b"etag", b"Vary", b"X-Id"]
OURS = {
    b"x-robots-tag": [b"noindex", b"noai", b"NOAI, noimageai", b"noarchive, noai, noimageai", b""],
    b"tdm-reservation": [b"0", b"1"],
    b"tdm-policy": [b"https://other.example/p.json"],
    b"content-usage": [b"train-ai=y"],
}
SETTINGS = [
    {},
    {"noarchive": True, "tdm_policy_url": "https://art.example/tdm.json", "paths": RULES},
    {"content_types": ["image/*", "application/xhtml+xml"], "paths": RULES[:1]},
    {"defaults": {"train_ai": True}, "paths": RULES, "tdm_policy_url": "https://a.example/t"},
]


def expected(settings: DirectivesSettings, path: str, status: int, headers: Headers) -> Headers:
    """The plain computation, from nothing memoised: is the response one to mark, then
    `directive_headers` for the path's preferences against the app's own headers."""
    if not wants_directives(status, headers, MediaTypes(settings.content_types)):
        return []
    return directive_headers(PreferenceResolver(settings).for_path(path), settings, headers)


def cased(name: bytes, rng: random.Random) -> bytes:
    return rng.choice([name, name.upper(), name.title(), name.lower()])


def response(rng: random.Random) -> tuple[int, Headers]:
    """A random status and header list: none to several Content-Types, other headers, and now
    and then one of ours, names in any case."""
    headers: Headers = [
        (cased(rng.choice(OTHER_NAMES), rng), str(rng.randrange(10**6)).encode())
        for _ in range(rng.randrange(4))
    ]
    for _ in range(rng.choice([0, 1, 1, 1, 1, 2])):
        headers.append((cased(b"content-type", rng), rng.choice(CONTENT_TYPES)))
    if rng.random() < 0.25:
        name = rng.choice(list(OURS))
        headers.append((cased(name, rng), rng.choice(OURS[name])))
    rng.shuffle(headers)
    return rng.choice([200, 200, 200, 201, 204, 299, 199, 300, 302, 404, 500]), headers


@pytest.mark.parametrize("options", SETTINGS)
def test_added_is_the_plain_computation_for_random_responses(options: dict[str, Any]) -> None:
    settings = DirectivesSettings(**options)
    rng = random.Random(19)
    found = DirectiveHeaders(settings)
    marked = 0
    for _ in range(4000):  # a few hundred distinct shapes: most answers come from the memos
        status, headers = response(rng)
        path = rng.choice(PATHS)
        want = expected(settings, path, status, headers)
        assert list(found.added(path, status, headers)) == want, (path, status, headers)
        marked += bool(want)
    assert marked > 400


def test_a_flood_of_distinct_names_and_content_types_stays_bounded() -> None:
    settings = DirectivesSettings(paths=RULES)
    found = DirectiveHeaders(settings)
    for i in range(3000):
        path = PATHS[i % len(PATHS)]
        headers = [(f"x-flood-{i}".encode(), b"1"), (b"content-type", f"text/html; v={i}".encode())]
        assert list(found.added(path, 200, headers)) == expected(settings, path, 200, headers)
        # and the memoised answers still right once the memos are full
        again = [(b"content-type", b"text/html"), (b"X-Robots-Tag", b"noindex")]
        assert list(found.added(path, 200, again)) == expected(settings, path, 200, again)
    assert len(found._roles) <= 256
    assert all(len(table) <= 256 for _, table in found._rules)
    assert len(found._defaults) <= 256


def test_the_answer_is_shared_and_immutable() -> None:
    found = DirectiveHeaders(DirectivesSettings())
    headers = [(b"content-type", b"text/html")]
    first = found.added("/", 200, headers)
    assert isinstance(first, tuple)
    assert first is found.added("/a", 200, list(headers))


# Through a real uvicorn: the middleware's whole header list, fast path against the plain one.


class Raw:
    """An ASGI endpoint answering /r/<case> with a raw header list (names in any case, several
    Content-Types, the app's own directive headers) and status, chosen by `case`."""

    def __init__(self, cases: list[tuple[int, Headers]]) -> None:
        self.cases = cases

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        status, headers = self.cases[int(scope["path"].rsplit("/", 1)[1])]
        body = b"<html>art</html>"
        own = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        await send({"type": "http.response.start", "status": status, "headers": own})
        await send({"type": "http.response.body", "body": b"" if status == 204 else body})


def raw_cases(rng: random.Random, count: int) -> list[tuple[int, Headers]]:
    """Random responses a server can send (no 1xx, a body only where one is allowed), mostly
    200s."""
    cases: list[tuple[int, Headers]] = []
    while len(cases) < count:
        status, headers = response(rng)
        status = 200 if rng.random() < 0.6 else status  # (more of them marked)
        if status >= 200 and status not in (204, 304) and b"" not in (k for k, _ in headers):
            cases.append((status, headers))
    return cases


RUNS = list(itertools.product(LOOPS, ["memory", "redis"], [True, False]))
"""Both loops, both stores, leases on and off."""


@pytest.mark.slow
@pytest.mark.parametrize(("loop", "backend", "leases"), RUNS)
def test_every_responses_headers_are_the_plain_computations(
    loop: str, backend: str, leases: bool, redis_server: RedisServer, redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    rng = random.Random(7)
    cases = raw_cases(rng, 40)
    store = redis_store_settings(redis_server.url, redis_prefix) if backend == "redis" else {}
    settings = Settings(
        **store,
        lease={"enabled": leases},
        # scores never refuse: every request reaches the app (the benchmarks' policy)
        policy={"challenge_score": 1e9, "block_score": 1e9, "use_default_rules": False},
        ratelimit={"groups": {"default": {"limits": "100000/minute", "headers": True}}},
        directives={"noarchive": True, "tdm_policy_url": "https://art.example/t", "paths": RULES},
    )
    raw = Raw(cases)
    app = closing_app(
        settings, [Route("/r/{case:int}", raw), Route("/{where:path}/r/{case:int}", raw)]
    )
    shield: Shield = app.user_middleware[0].kwargs["shield"]
    directives = settings.directives
    seen: list[tuple[int, Headers, Headers, Headers]] = []
    real = middleware._add_directives

    def spy(added: Any, path: str, extra: Headers, send: Any, message: Any) -> Any:
        """The middleware's wrapper as it is, noting the app's headers, the context's and the
        headers it sent (compared below, one request at a time, with the plain computation's)."""
        if message["type"] != "http.response.start":
            return real(added, path, extra, send, message)
        original = list(message.get("headers") or ())

        def check(sent: Any) -> Any:
            seen.append((sent["status"], original, list(extra), list(sent.get("headers") or ())))
            return send(sent)

        return real(added, path, extra, check, message)

    monkeypatch.setattr(middleware, "_add_directives", spy)
    requests = [(rng.choice(PATHS).rstrip("/") or "", i) for i in range(len(cases))] * 4
    with (
        serve(app, loop=loop, lifespan="on") as server,
        httpx.Client(base_url=server.url, headers=chrome()) as client,
    ):
        for where, case in requests:
            assert client.get(f"{where}/r/{case}").status_code == cases[case][0]
    assert len(seen) == len(requests)  # (one at a time: the n-th seen is the n-th request)
    marked = 0
    for (where, case), (status, original, extra, got) in zip(requests, seen, strict=True):
        ours = expected(directives, f"{where}/r/{case}", status, original)
        assert got == [*original, *extra, *ours], (where, case)
        marked += bool(ours)
    assert marked > len(requests) // 4
    if leases:
        assert shield.leases is not None
        assert shield.leases.used > 0
