"""The facts of a repeated request (FactsBuilder's memo): a request whose address, scheme, HTTP
version, method and header lines repeat an earlier one's gets facts equal to a full build's in
every field but its request id and time, its own path, query and route included."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from scrapeshield import Settings
from scrapeshield.facts import _MEMO_LINES, _MEMO_SIZE, Facts, FactsBuilder
from scrapeshield.shield import synthetic_scope

_SETTINGS = Settings(
    trusted_proxies=["10.0.0.0/8"],
    route_groups=[{"name": "images", "paths": ["/img/*"]}],
)
_VALUES = {
    "user-agent": ["Mozilla/5.0 Chrome/131.0", "curl/8.5.0", "x" * 600, ""],
    "accept": ["text/html", "*/*", "image/avif,image/*"],
    "cookie": ["ss_v=abc", "ss_v=def; other=1", ""],
    "referer": ["https://gallery.example/a", "https://gallery.example/b"],
    "x-forwarded-for": ["198.51.100.7", "198.51.100.8, 203.0.113.9", "not an address"],
    "x-forwarded-proto": ["https", "http"],
    "x-request-id": ["req-1", "req-2", "\x00bad", "r" * 80],
    "host": ["gallery.example", "localhost:8000", "GALLERY.example"],
    "sec-fetch-dest": ["document", "image"],
}


def _scope(rng: random.Random) -> dict[str, Any]:
    names = rng.sample(sorted(_VALUES), rng.randint(0, len(_VALUES)))
    headers = [(name, rng.choice(_VALUES[name])) for name in names]
    if rng.random() < 0.2:  # a repeated field (its values joined)
        headers.append(("accept", "text/plain"))
    scope = synthetic_scope(
        method=rng.choice(["GET", "get", "POST", "HEAD"]),
        path=rng.choice(["/", "/artworks/7", "/img/1.png", "/img/2.png?size=big", "/a?b=c"]),
        ip=rng.choice(["203.0.113.7", "10.0.0.1", "2001:db8::7"]),
        headers=headers,
        scheme=rng.choice(["http", "https"]),
    )
    scope["http_version"] = rng.choice(["1.1", "2"])
    if rng.random() < 0.1:
        scope["client"] = None
    return scope


def _fields(facts: Facts) -> dict[str, Any]:
    found = msgspec.structs.asdict(facts)
    del found["time"], found["request_id"]
    return found


@pytest.mark.parametrize("trust_request_id", [False, True])
def test_a_repeated_requests_facts_equal_a_full_builds(trust_request_id: bool) -> None:
    settings = _SETTINGS.model_copy(update={"trust_request_id": trust_request_id})
    memoised, full = FactsBuilder(settings), FactsBuilder(settings)
    rng = random.Random(7)
    scopes = [_scope(rng) for _ in range(300)]
    hits = 0
    for n in range(3000):
        scope = dict(rng.choice(scopes))
        path = rng.choice(["/artworks/9", "/img/3.png", scope["path"]])
        scope["path"], scope["query_string"] = path, rng.choice([b"", b"page=2"])
        before = len(memoised._memo)
        got = memoised.build(scope)
        hits += len(memoised._memo) == before and n > 0
        want, _ = full._build(scope, scope["headers"])
        assert _fields(got) == _fields(want), scope
        header_id = want.request_id == full._build(scope, scope["headers"])[0].request_id
        assert (got.request_id == want.request_id) == header_id  # a trusted header's, or new
    assert hits > 2000  # most of them repeats: the memo answered


def test_a_request_is_kept_at_its_second_sight() -> None:
    builder = FactsBuilder(_SETTINGS)
    once = builder.build(synthetic_scope(path="/artworks/7"))
    assert builder._memo == {}  # seen once: its hash noted, nothing kept
    twice = builder.build(synthetic_scope(path="/artworks/8"))
    assert len(builder._memo) == 1  # built, and kept
    assert twice.headers is not once.headers
    third = builder.build(synthetic_scope(path="/artworks/9"))
    assert third.headers is twice.headers  # answered from the kept one
    assert builder.build(synthetic_scope(path="/", ip="203.0.113.8")).headers is not third.headers


def test_a_repeat_takes_its_own_route_group_path_and_time() -> None:
    builder = FactsBuilder(_SETTINGS)
    builder.build(synthetic_scope(path="/artworks/7"))
    first = builder.build(synthetic_scope(path="/artworks/7"))
    again = builder.build(synthetic_scope(path="/img/7.png?size=big"))
    assert again.headers is first.headers  # answered from the first
    assert (first.route_group, again.route_group) == ("default", "images")
    assert (again.path, again.query) == ("/img/7.png", "size=big")
    assert again.time >= first.time
    assert again.request_id != first.request_id


def test_header_lines_as_lists_are_built_not_kept() -> None:
    builder = FactsBuilder(_SETTINGS)
    scope = synthetic_scope(headers=[("user-agent", "curl/8.5.0")])
    scope["headers"] = [list(line) for line in scope["headers"]]
    for _ in range(3):
        assert builder.build(scope).user_agent == "curl/8.5.0"
    assert builder._memo == {}


def test_the_memo_is_bounded_and_long_requests_are_not_kept() -> None:
    builder = FactsBuilder(_SETTINGS)
    for n in range(_MEMO_SIZE * 3):
        for _ in range(2):  # (kept at the second)
            builder.build(synthetic_scope(headers=[("user-agent", f"agent/{n}")]))
        assert 0 < len(builder._memo) <= _MEMO_SIZE
        assert len(builder._seen) <= _MEMO_SIZE * 4
    many = [(f"x-{n}", "1") for n in range(_MEMO_LINES + 1)]
    builder._memo.clear()
    for _ in range(3):
        assert builder.build(synthetic_scope(headers=many)).headers["x-0"] == "1"
    assert builder._memo == {}


class _Counted(bytes):
    """A header value that counts its hashes (a bytes subclass: no hash kept)."""

    hashed = 0

    def __hash__(self) -> int:
        _Counted.hashed += 1
        return bytes.__hash__(self)


def test_a_clients_repeat_is_found_by_its_last_entry_without_hashing_its_lines() -> None:
    builder = FactsBuilder(_SETTINGS)

    def scope(agent: str) -> dict[str, Any]:
        found = synthetic_scope(path="/artworks/7")
        found["headers"] = [*found["headers"], (b"user-agent", _Counted(agent.encode()))]
        return found

    for _ in range(2):  # kept at the second sight
        builder.build(scope("a/1"))
        builder.build(scope("b/1"))
    _Counted.hashed = 0
    a = builder.build(scope("a/1"))  # the client's last entry is b's: a's found by its hash
    assert _Counted.hashed == 1
    again = builder.build(scope("a/1"))  # now its last: compared, not hashed
    assert _Counted.hashed == 1
    assert again.headers is a.headers
    assert builder.build(scope("b/1")).user_agent == "b/1"  # (hashed: b's own facts)
    assert _Counted.hashed == 2


def test_the_clients_last_entries_are_bounded_with_the_memo() -> None:
    builder = FactsBuilder(_SETTINGS)
    for n in range(_MEMO_SIZE * 3):
        ip = f"203.0.{n // 256}.{n % 256}"
        for _ in range(2):  # (kept at the second)
            builder.build(synthetic_scope(ip=ip))
        assert 0 < len(builder._last) <= len(builder._memo) <= _MEMO_SIZE
