"""The differential harness of the fast lane (docs/log/architecture.md, "The fast lane"): the same
requests, in the same order and at the same (fake) times, through two shields that differ only in
their settings (`fast` and `full`: a fast-lane step on and off), through the ASGI middleware, on
the memory store or Redis; `Twins.send` fails at the
first request where what the two answered differs, and `Twins.compare_stores` when what they
stored does.

Compared per request: the decision (action, rule, score, status, retry and ban times, every
reason's name, weight and detail), the response's status and every header the shield adds (the
RateLimit fields among them), the Set-Cookie values included: the visitor tokens' random ids come
from one seeded source per shield, and the clock is the harness's. Compared after: the memory
store's tables (counts, sets, bans, rows) and its events' kinds, or every Redis key under each
shield's prefix with its value (the streams by length: their ids and request ids are per
request).
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio

from scrapeshield.fingerprint.dnsverify import FCrDNS
from scrapeshield.middleware import ScrapeShield
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield
from scrapeshield.signals import Decision
from scrapeshield.store import MemoryStore, RedisStore, Store
from tests.fastlane import crossings
from tests.servers import glob_literal, redis_contents
from tests.windows import pauses

STATE_KEY = "scrapeshield"
REAL_TIME = time.time  # (taken before a harness puts its fake clock in its place)
EDGE_ROOM = 0.3
"""On Redis a request is sent with at least this long (s) before the server's next 10 s bucket
edge (the shortest window of the shipped groups; the others are multiples of it): the twins'
hits, a moment apart, land in one bucket. At least 1.5 times the slowest request (or group) of
the twins so far, up to `MOST_ROOM`: on a loaded host a request took longer than 0.3 s, one
twin's hit fell past the edge and the other's did not (a throttle on one twin only, its retry
the 0.3-0.4 s to the edge: docs/log/store.md, "Batches in order"). A room of r costs a request
r²/20 s on average (r/10 of them wait r/2): 4.5 ms at 0.3 s, 50 ms at `MOST_ROOM`."""
MOST_ROOM = 1.0
CROSSING_ROOM = 0.02
"""The least room (s) before the instant a sliding window's verdict turns (`Twins._room`)."""
MOST_CROSSINGS = 20
"""Waits past such instants before a request is sent whatever comes next (then compared
exactly, as every request is)."""
SECRET = "differential-test-key-0123456789abcdef"


@dataclass
class Request:
    """One request of a sequence, `after` seconds after the one before."""

    path: str
    headers: Sequence[tuple[str, str]]
    ip: str = "203.0.113.7"
    method: str = "GET"
    after: float = 0.5

    def scope(self) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        return {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": self.method, "scheme": "https", "path": path,
            "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
            "client": (self.ip, 50000), "server": ("127.0.0.1", 443),
            "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in self.headers],
        }  # fmt: skip


@dataclass
class Seen:
    """What one shield answered to one request."""

    decision: tuple[Any, ...] | None
    status: int
    headers: list[tuple[bytes, bytes]]


class Clock:
    """`time.time` for the harness: moved by each request's `after`."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class Resolver:
    """Reverse and forward DNS as Google's crawlers' addresses answer it; nothing else."""

    async def reverse(self, ip: str) -> str | None:
        return f"crawl-{ip.replace('.', '-')}.googlebot.com" if ip.startswith("66.249.") else None

    async def forward(self, host: str) -> Sequence[str]:
        if host.startswith("crawl-") and host.endswith(".googlebot.com"):
            return [host[6:].split(".")[0].replace("-", ".")]
        return []


def twin_settings(**more: Any) -> Settings:
    """The shipped settings, with keys of their own (both twins alike), and `more`."""
    base: dict[str, Any] = {
        "identity": {"secret_keys": [SECRET]},
        "challenge": {"secret_keys": [SECRET]},
        "trusted_proxies": ["127.0.0.1/32"],
    }
    return Settings(**{**base, **more})


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def decision_of(decision: Decision | None) -> tuple[Any, ...] | None:
    if decision is None:
        return None
    reasons = tuple((s.name, s.weight, s.detail) for s in decision.reasons)
    return (
        decision.action,
        decision.rule,
        decision.score,
        decision.status,
        decision.retry_after,
        decision.ban_for,
        decision.enforced,
        reasons,
    )


@dataclass
class Twin:
    name: str
    shield: Shield
    app: ScrapeShield
    ids: itertools.count[int] = field(default_factory=itertools.count)

    async def send(self, request: Request) -> Seen:
        scope = request.scope()
        sent: list[MutableMapping[str, Any]] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, _receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        decision = scope.get("state", {}).get(STATE_KEY)
        return Seen(decision_of(decision), start["status"], list(start.get("headers", [])))


def _pipeline(settings: dict[str, Any]) -> dict[str, Any]:
    """The full twin's settings: every request evaluated in full (no lease)."""
    return {**settings, "lease": {**settings.get("lease", {}), "enabled": False}}


class Twins:
    """Two shields fed the same requests: `fast` (a fast-lane step on: its settings `fast`)
    and `full` (the pipeline: `full`, leases off whatever the settings say, as leases are on
    by default), both with the `common` settings too. A step compares
    `Twins(monkeypatch, fast={"<its setting>": ...})`; `stores` makes each twin's store
    (`MemoryStore` unless told); `server_clock` when that store runs the rate limiter's windows
    on its own clock (Redis); `expiry_slack`: keys' expiry times compared to that many seconds
    apart at most, rather than exactly, for a step known to refresh a key's
    expiry later than the pipeline (leases: `lease.seconds`)."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        stores: Callable[[], Store] = MemoryStore,
        *,
        fast: Mapping[str, Any] | None = None,
        full: Mapping[str, Any] | None = None,
        server_clock: bool = False,
        expiry_slack: float = 0.0,
        **common: Any,
    ) -> None:
        self.clock = Clock()
        self.server_clock = server_clock
        self.expiry_slack = expiry_slack
        self.twins = [
            self._twin("fast", stores(), twin_settings(**{**common, **(fast or {})})),
            self._twin("full", stores(), twin_settings(**_pipeline({**common, **(full or {})}))),
        ]
        # whose turn it is, and how many tokens it drew: per task when the twins go at once
        self._turn = contextvars.ContextVar("turn", default=(self.twins[0], [0]))
        self._index = contextvars.ContextVar("index", default=-1)  # (`send_together`)
        self._minting: random.Random | None = None
        self.minted: list[str] = []
        monkeypatch.setattr(time, "time", self.clock)
        monkeypatch.setattr("scrapeshield.identity.token.secrets.token_urlsafe", self._token)
        monkeypatch.setattr("scrapeshield.facts.getrandbits", self._request_id)
        self.requests = 0
        self.waited = 0  # the waits past an instant a verdict turns (`_room`)
        self.slowest = 0.0  # the longest a request (or group) to both twins took, real seconds
        self.real_time: Callable[[], float] = REAL_TIME  # (the edge's clock, and its wait)
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.counts: Callable[[], Awaitable[crossings.Counts]] | None = None
        """The twins' rate-limit counters and the server's time (on Redis), read before each
        request: no verdict may turn while the twins read the server's clock (`_room`)."""
        self.costs = crossings.costs(twin.shield.settings for twin in self.twins)
        on_redis = [t.shield.store for t in self.twins if isinstance(t.shield.store, RedisStore)]
        if server_clock and len(on_redis) == 2:
            url, prefixes = on_redis[0].url, [store.prefix for store in on_redis]
            self.counts = lambda: crossings.read_counts(url, prefixes)

    @staticmethod
    def _twin(name: str, store: Store, settings: Settings) -> Twin:
        shield = Shield(settings, store=store)
        for detector in shield.detectors:
            if detector.name == "verified":
                detector.dns = FCrDNS(Resolver())  # type: ignore[attr-defined]
        return Twin(name, shield, ScrapeShield(_app, shield=shield))

    def _token(self, size: int = 16) -> str:
        """The request's n-th random token, alike for both twins (a token one of them draws and
        the other does not leaves the next ones alike)."""
        if self._minting is not None:
            return self._minting.randbytes(size).hex()
        drawn = self._turn.get()[1]
        drawn[0] += 1
        index = self._index.get()
        return (
            random.Random(f"{self.requests if index < 0 else index}/{drawn[0]}")
            .randbytes(size)
            .hex()
        )

    def mint(self, scope: dict[str, Any]) -> str:
        """A visitor cookie for this request's client, as a page issued it before the sequence
        (both shields share the key), its id from a source of its own."""
        identity = next(d for d in self.fast.detectors if d.name == "identity")
        self._minting = random.Random(len(self.minted))
        try:
            issued = identity.tokens.issue(self.fast.facts(scope))  # type: ignore[attr-defined]
        finally:
            self._minting = None
        cookie: str = issued[1].decode().split(";")[0]
        self.minted.append(cookie)
        return cookie

    def _request_id(self, bits: int) -> int:
        return 0 if self._minting is not None else next(self._turn.get()[0].ids)

    @property
    def fast(self) -> Shield:
        return self.twins[0].shield

    @property
    def full(self) -> Shield:
        return self.twins[1].shield

    async def send(self, requests: Iterable[Request]) -> list[Seen]:
        """Each request to both shields, in turn (on Redis at once); fails at the first that
        differs."""
        answers = []
        for request in requests:
            self.clock.now += request.after
            if self.server_clock:  # at once: their scripts run close together on its clock
                start = await self._room(request)
                seen = list(await asyncio.gather(*(self._turn_of(t, request) for t in self.twins)))
                self._took(start)
            else:
                seen = [await self._turn_of(twin, request) for twin in self.twins]
            fast, full = seen if not self.server_clock else _on_server_clock(*seen)
            where = f"request {self.requests} ({request.method} {request.path} from {request.ip})"
            assert fast.decision == full.decision, f"{where}: decisions differ: {seen}"
            assert fast.status == full.status, f"{where}: statuses differ: {seen}"
            assert fast.headers == full.headers, f"{where}: response headers differ: {seen}"
            self.requests += 1
            answers.append(fast)
        return answers

    async def send_together(
        self, requests: Sequence[Request], at_once: int = 32, gap: float = 1.0
    ) -> list[Seen]:
        """The requests `at_once` at a time to each shield, as one client's many connections
        send them (wrk's 32): each group started in one tick, at one time (the clock moved by
        its first request's `after`, then by the others' once it is answered; a request more
        than `gap` seconds after the one before starts a new group), both shields at once;
        every request's answers compared, in order, once its group is answered."""
        answers: list[Seen] = []
        groups: list[list[Request]] = []
        for request in requests:
            if not groups or len(groups[-1]) >= at_once or request.after > gap:
                groups.append([])
            groups[-1].append(request)
        for group in groups:
            self.clock.now += group[0].after
            start = await self._edge_room() if self.server_clock else 0.0
            first = self.requests
            seen = await asyncio.gather(
                *(self._group_of(twin, group, first) for twin in self.twins)
            )
            if self.server_clock:
                self._took(start)
            self.clock.now += sum(request.after for request in group[1:])
            for n, (request, fast, full) in enumerate(zip(group, *seen, strict=True)):
                if self.server_clock:
                    fast, full = _on_server_clock(fast, full)
                where = f"request {first + n} ({request.method} {request.path} from {request.ip})"
                both = (fast, full)
                assert fast.decision == full.decision, f"{where}: decisions differ: {both}"
                assert fast.status == full.status, f"{where}: statuses differ: {both}"
                assert fast.headers == full.headers, f"{where}: response headers differ: {both}"
                answers.append(fast)
            self.requests += len(group)
        return answers

    async def _edge_room(self) -> float:
        """Wait until the server's 10 s bucket has the room a request needs (`EDGE_ROOM`, or
        1.5 times the slowest so far); the real time then."""
        await self._waited_for_edge()
        return self.real_time()

    async def _waited_for_edge(self) -> bool:
        """`_edge_room`'s wait: whether it waited (into the next bucket)."""
        room = min(max(EDGE_ROOM, 1.5 * self.slowest), MOST_ROOM)
        waited = False
        for pause in pauses(room, 10.0, self.real_time):
            await self.sleep(pause)
            waited = True
        return waited

    async def _room(self, request: Request) -> float:
        """No sliding window of the request's client turning its verdict (`crossings`) within
        1.5 times the slowest request so far (at least `CROSSING_ROOM`): a request sent just
        before that instant was rejected by the twin that read the server's clock first and
        admitted by the other. Waited past, then `_edge_room` (last: past an edge, the next
        bucket's counts are read again); the real time then."""
        for _ in range(MOST_CROSSINGS):
            if self.counts is not None:
                now, counts = await self.counts()
                counts = crossings.of_client(counts, crossings.addresses(request))
                room = min(max(CROSSING_ROOM, 1.5 * self.slowest), MOST_ROOM)
                if wait := crossings.past_crossings(now, counts, self.costs, room):
                    self.waited += 1
                    await self.sleep(wait)
                    continue
            if not await self._waited_for_edge() or self.counts is None:
                break
        return await self._edge_room()

    def _took(self, start: float) -> None:
        self.slowest = max(self.slowest, self.real_time() - start)

    async def _group_of(self, twin: Twin, group: list[Request], first: int) -> list[Seen]:
        """One shield's answers to a group sent at once (each request a task of its own, its
        random draws its own)."""
        return list(
            await asyncio.gather(
                *(self._one_of(twin, request, first + n) for n, request in enumerate(group))
            )
        )

    async def _one_of(self, twin: Twin, request: Request, index: int) -> Seen:
        self._index.set(index)
        return await self._turn_of(twin, request)

    async def _turn_of(self, twin: Twin, request: Request) -> Seen:
        """`twin`'s answer, its random draws counted from the request's first (in a task of its
        own when the twins go at once: the turn is the task's)."""
        self._turn.set((twin, [0]))
        return await twin.send(request)

    async def compare_stores(self) -> None:
        """What the two stored, once any lease is settled (leases count their requests at the
        client's next full evaluation, and reserve room ahead: docs/leases.md)."""
        for twin in self.twins:
            if (leases := twin.shield.leases) is not None:
                leases.end_all()
                await leases.written()
        fast, full = [await stored(twin.shield.store) for twin in self.twins]
        if self.server_clock:
            ours, theirs = await _buckets(*[twin.shield.store for twin in self.twins])
            fast, full = _buckets_named(fast, ours), _buckets_named(full, theirs)
        for part in ("data", "rows") if self.expiry_slack and "data" in fast else ():
            ours, theirs = fast[part], full[part]
            for key, (value, at) in ours.items():
                other = theirs.get(key)
                if (
                    other is not None
                    and other[0] == value
                    and _near(at, other[1], self.expiry_slack)
                ):
                    ours[key] = other  # the same value, its expiry within the slack
        for part in fast:
            ours, theirs = fast[part], full[part]
            if isinstance(ours, dict) and isinstance(theirs, dict) and ours != theirs:
                keys = sorted({*ours, *theirs}, key=str)
                diff = {
                    k: (ours.get(k), theirs.get(k)) for k in keys if ours.get(k) != theirs.get(k)
                }
                raise AssertionError(f"the stores' {part} differ (fast, full): {diff}")
            assert ours == theirs, f"the stores' {part} differ: {ours} against {theirs}"

    async def aclose(self) -> None:
        for twin in self.twins:
            await twin.shield.aclose()


async def stored(store: Store) -> dict[Any, Any]:
    """What a store holds, comparable across two stores."""
    if isinstance(store, MemoryStore):
        return {
            "data": dict(store._data),
            "bans": dict(store._bans),
            "traps": dict(store._traps),
            "rows": dict(store._rows),
            "sets": {k: set(v) for k, v in store._sets.items()},
            "set_expiry": dict(store._set_expiry),
            "events": [(event.time, event.data) for event in store._events],
        }
    assert isinstance(store, RedisStore)
    return await redis_contents(store.url, store.prefix)


_BUCKETS = """
local out = {}
for i, pattern in ipairs(ARGV) do
  local found = {}
  for _, key in ipairs(redis.call('KEYS', pattern)) do
    found[#found + 1] = key
    found[#found + 1] = redis.call('PTTL', key)
  end
  out[i] = found
end
return out
"""
"""Both twins' rate-limit keys with their times to live, read in one script: the server's clock
stands still while it runs, so a bucket that expires on the server's clock (a 10 s window's,
~20 s after its last hit) cannot be present in one twin's read and gone from the other's (read
key by key, a loaded machine's two reads were seconds apart)."""

_EXPIRING_MS = 2000
"""A bucket that one twin holds with less than this to live and the other no longer holds is
taken as the same: the twins wrote it a moment apart (one request's two sends)."""


async def _buckets(fast: Store, full: Store) -> tuple[list[bytes], list[bytes]]:
    """The twins' rate-limit buckets by name (`rl:...<window>`, without the parity), read at one
    instant of the server; a name only one twin holds, with at most `_EXPIRING_MS` to live, is
    left out of both (the other's copy expired a moment before)."""
    assert isinstance(fast, RedisStore)
    assert isinstance(full, RedisStore)
    patterns = [glob_literal(s.prefix) + "rl:*" for s in (fast, full)]
    client = redis.asyncio.Redis.from_url(fast.url)
    try:
        replies = await client.eval(_BUCKETS, 0, *patterns)
    finally:
        await client.aclose()
    ours, theirs = [
        _longest_lives(found, store.prefix.encode())
        for store, found in zip((fast, full), replies, strict=True)
    ]
    expiring = {
        name
        for name in ours.keys() ^ theirs.keys()
        if 0 <= max(ours.get(name, -1), theirs.get(name, -1)) <= _EXPIRING_MS
    }
    return sorted(ours.keys() - expiring), sorted(theirs.keys() - expiring)


def _longest_lives(found: Sequence[Any], prefix: bytes) -> dict[bytes, int]:
    """Each bucket's name with the longest time to live (ms) among its parities' keys."""
    names: dict[bytes, int] = {}
    for key, ttl in zip(found[::2], found[1::2], strict=True):
        name = key[len(prefix) :].rpartition(b"/")[0]
        names[name] = max(names.get(name, -1), int(ttl))
    return names


def _buckets_named(contents: dict[Any, Any], names: list[bytes]) -> dict[Any, Any]:
    """The rate limiter's buckets on Redis (`rl:...<window>/<parity>`) by name alone: which
    bucket a hit lands in follows the server's clock, which the twins read a moment apart (their
    counts are held to the decisions and the RateLimit fields' remaining counts instead). The
    names are `_buckets`' (one instant for both twins)."""
    out = {k: v for k, v in contents.items() if not k.startswith(b"rl:")}
    out[b"rl: buckets"] = names
    return out


def _near(at: float | None, other: float | None, slack: float) -> bool:
    if at is None or other is None:
        return at is other
    return abs(at - other) <= slack


_SERVER_TIMED = (b"retry-after", b"ratelimit")
_RETRY_SLACK = 0.5
"""The two twins' retry times on Redis, read a moment apart: 0.1 s was exceeded once on a loaded
machine (0.116 s, load 3.5). Half a second is under the one second Retry-After is held to, and
hides no count: the RateLimit field's remaining count and every stored bucket are compared
exactly."""


def _on_server_clock(fast: Seen, full: Seen) -> tuple[Seen, Seen]:
    """On Redis the rate limiter's windows run on the server's clock (`TIME`), which the two
    shields read a moment apart (sent at once, so that a loaded machine does not stretch the
    moment across a sliding window's decay step or a bucket's end): its times (the retry time,
    Retry-After and the RateLimit field's seconds) are held equal within `_RETRY_SLACK` and one
    second, and then taken as equal; everything else is compared exactly."""
    if fast.decision is not None and full.decision is not None:
        ours, theirs = fast.decision[4], full.decision[4]
        if ours is not None and theirs is not None and abs(ours - theirs) <= _RETRY_SLACK:
            full = Seen((*full.decision[:4], ours, *full.decision[5:]), full.status, full.headers)
    if len(fast.headers) == len(full.headers):
        headers, digits = [], 0
        for (name, value), (other, theirs) in zip(fast.headers, full.headers, strict=True):
            if name == other and name in _SERVER_TIMED and _within_a_second(value, theirs):
                if name == b"retry-after":
                    digits = len(theirs) - len(value)
                theirs = value
            elif name == other == b"content-length" and _longer_by(value, theirs, digits):
                theirs = value
            headers.append((other, theirs))
        full = Seen(full.decision, full.status, headers)
    return fast, full


def _longer_by(ours: bytes, theirs: bytes, digits: int) -> bool:
    """The throttle page's length, `digits` longer on the twin whose Retry-After has that many
    more digits (taken as equal above): the page says "try again in about N seconds", so 9
    against 10 s (its retry 9.0 against 9.002 s: the two reads of `TIME` 2 ms apart, rounded
    up) makes it a byte longer. Only that difference: any other length is compared exactly."""
    return (
        bool(digits) and ours.isdigit() and theirs.isdigit() and int(theirs) - int(ours) == digits
    )


def _within_a_second(ours: bytes, theirs: bytes) -> bool:
    """Retry-After's seconds, or the RateLimit field's `t` (its policy and remaining count
    exactly), at most a second apart."""
    head, _, seconds = ours.rpartition(b"t=")
    other, _, their_seconds = theirs.rpartition(b"t=")
    if head != other or not seconds.isdigit() or not their_seconds.isdigit():
        return False
    return abs(int(seconds) - int(their_seconds)) <= 1
