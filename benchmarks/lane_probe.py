"""A probe of issue 19's fast lane: how cheap the hit path can be inside the real middleware.

Benchmark code only, neither exact nor safe (docs/log/architecture.md, "The hit path measured").
`LaneProbe` is `ScrapeShield` (every defence as `benchmarks/apps.py` ships them, MemoryStore)
with a table in front of it, keyed by (client address: X-Forwarded-For's last hop when
127.0.0.1 is a trusted proxy, as the person mix's settings say; the visitor cookie's value; the
raw header lines but the cookie and the Referer; the method; the path's first segment, standing
for its route kind). A miss, or an entry whose budget is spent, runs the full evaluation
(`ScrapeShield.__call__`) and stores what it found: the decision, the headers the shield added
to the response, the rate limiter's rules and keys, behaviour's request, and a budget of
requests (the fewest left of the request's limits, at most `cap`). A hit:

- counts the rate limit's real windows (`NativeMemoryLimiter._admit_sliding` on the stored keys)
  and behaviour's real record (`record.count`, and `push` of the path's id to its ring, on the
  store's record, as `behaviour/detector.py`'s `_in_memory` does);
- puts the stored decision in `scope["state"]`, adds the stored headers (RateLimit fields as
  they were at the miss) and calls the app.

Left out on a hit (each `extra` below adds one back, to measure it): the ban read (`"ban"`:
`MemoryStore.peek_ban`), identity's returned-visitor mark (`"identity"`: the `id:r:` key set, as
identity's plan does for a page with a token), the RateLimit fields rebuilt from this hit's
counts (`"fields"`); and never done: identity's other counts, behaviour's judgement of the new
counts (and an original's orphan check and the listings' ring), the trap and challenge-pass
reads, the network-level counts but the rate limiter's own, a decision's details rebuilt.
`count` names the counts a hit updates (`COUNTS`: both; empty: the table and headers alone).
"""

from __future__ import annotations

import os
import time
from functools import partial
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrapeshield.behaviour.evidence import PAGE
from scrapeshield.behaviour.record import NEW_TALLY, RING_NAMES, count, new_tally, push
from scrapeshield.behaviour.works import item_id
from scrapeshield.middleware import STATE_KEY, ScrapeShield, _append_headers
from scrapeshield.ratelimit.headers import add_rate_limit_headers
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield
from scrapeshield.signals import Action
from scrapeshield.store.keys import subject_key
from scrapeshield.store.memory import MemoryStore

CAP = 32  # a stored decision serves at most this many requests before the next full one
COUNTS = frozenset({"ratelimit", "behaviour"})  # the counts a hit updates (`count`)
EXTRAS = frozenset({"ban", "identity", "fields"})
_SKIPPED = frozenset({b"cookie", b"referer"})
_Key = tuple[Any, ...]
PROBES: list[LaneProbe] = []  # every probe made in this process (apps.lane reads its hits)


class _Entry:
    """What a full evaluation left for the hits after it."""

    __slots__ = (
        *("bh", "budget", "client", "cookie_page", "decision", "headers", "rl"),
        *("place", "record", "slots"),  # lane_record.py's: where a hit counts
    )

    def __init__(self, decision: Any, headers: list[tuple[bytes, bytes]], budget: int) -> None:
        self.decision, self.headers, self.budget = decision, headers, budget
        self.rl: tuple[Any, ...] | None = None  # (limits, keys, policy field)
        self.bh: Any = None  # behaviour's request (client, kind, bumps)
        self.client = ""
        self.cookie_page = False  # a page with a visitor token: identity would mark it
        self.slots: tuple[Any, ...] = ()  # (record, place, window, quota) per limit
        self.record: Any = None  # the client's record (behaviour's counts)
        self.place: int | None = None  # the ring a hit's id is pushed to


class LaneProbe(ScrapeShield):
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings | None = None,
        shield: Shield | None = None,
        cap: int = CAP,
        count: frozenset[str] = COUNTS,
        extras: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(_Measured(app), settings=settings, shield=shield)
        self.raw = app  # a hit calls the app itself
        PROBES.append(self)
        if not isinstance(self.shield.store, MemoryStore) or extras - EXTRAS or count - COUNTS:
            raise ValueError("lane probe: the MemoryStore, `count` of COUNTS, `extras` of EXTRAS")
        self.store: MemoryStore = self.shield.store
        self.cap, self.counting, self.extras = cap, count, extras
        self.table: dict[_Key, _Entry] = {}
        self.hits = self.misses = self.replayed = 0  # replayed: hits whose decision had signals
        self._trusted = bool(self.settings.trusted_proxies)
        self._caught: dict[str, Any] = {}  # what the running full evaluation's detectors saw
        self._limiter: Any = None
        self._behaviour: Any = None
        self._window = self._ring_size = self._ttl = 0.0
        self._id_window = float(self.settings.identity.window)
        for detector in self.shield.detectors:
            if detector.name == "ratelimit":
                self._limiter = detector._last_for(self.store)[2]  # type: ignore[attr-defined]
                self._limiter.hit_now = partial(_caught_hit, self._caught, self._limiter.hit_now)
                self._legacy = detector._legacy  # type: ignore[attr-defined]
            elif detector.name == "behaviour":
                self._behaviour = detector
                memory = detector._in_memory  # type: ignore[attr-defined]
                detector._in_memory = partial(_caught_request, self._caught, memory)  # type: ignore[attr-defined]
                self._window = detector._s.window  # type: ignore[attr-defined]
                self._ring_size = detector.ring_size  # type: ignore[attr-defined]
                self._ttl = detector._record_ttl  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        key = self.key(scope)
        entry = self.table.get(key)
        if entry is None or entry.budget <= 0:
            await self._full(key, scope, receive, send)
            return
        self.hits += 1
        self.replayed += bool(entry.decision.reasons)
        entry.budget -= 1
        headers = entry.headers
        if self.counting or self.extras:
            headers = self._count(entry, scope["path"])
        scope.setdefault("state", {})[STATE_KEY] = entry.decision
        await self.raw(scope, receive, partial(_append_headers, headers, send))

    def key(self, scope: Scope) -> _Key:
        """(address, cookie, header lines but cookie and Referer, method, route kind)."""
        cookie = forwarded = b""
        lines = []
        for line in scope["headers"]:
            name = line[0]
            if name in _SKIPPED:
                if name == b"cookie":
                    cookie = line[1]
                continue
            if name == b"x-forwarded-for":
                forwarded = line[1]
            lines.append(line)
        client = scope.get("client")
        address = client[0] if client else ""
        if forwarded and self._trusted:  # (a probe: trusts any peer, as the person mix's one)
            address = forwarded.rpartition(b",")[2].strip()
        path: str = scope["path"]
        kind = path[: path.find("/", 1)]
        return address, cookie, tuple(lines), scope["method"], kind

    def _count(self, entry: _Entry, path: str) -> list[tuple[bytes, bytes]]:
        """The hit's counts, on the detectors' own entries; the headers to add."""
        now = time.time()
        headers = entry.headers
        extras = self.extras
        if extras and "ban" in extras and self.store.peek_ban(entry.client) is not None:
            entry.budget = 0  # (a ban: the next request runs the full evaluation)
        if entry.rl is not None and "ratelimit" in self.counting:
            limits, keys, policy = entry.rl
            outcome = self._limiter._admit_sliding(limits, keys, 1, now)
            if outcome is None:  # no room: the next request runs the full evaluation
                entry.budget = 0
            elif "fields" in extras:
                headers = [h for h in headers if h[0] not in (b"ratelimit", b"ratelimit-policy")]
                add_rate_limit_headers(headers, policy, outcome, legacy=self._legacy)
        r = entry.bh
        if r is not None and "behaviour" in self.counting:
            store = self.store
            key = subject_key("bh:", r.client)
            tally = store.record(key, self._ttl, new_tally) or NEW_TALLY
            counts, _ = count(tally[0], int(now // self._window), r.bumps)
            tally = (counts, *tally[1:])
            ident = item_id(path) if r.ident is not None else None
            if ident is not None:
                tally = push(tally, RING_NAMES[r.kind], ident, int(now), int(self._ring_size))
            store.replace_record(key, tally)
        if extras and "identity" in extras and entry.cookie_page:
            self.store.put(subject_key("id:r:", entry.client), "", self._id_window)
        return headers

    async def _full(self, key: _Key, scope: Scope, receive: Receive, send: Send) -> None:
        """The full evaluation; its outcome kept for the hits after it when it was an allow
        without a status or an issued cookie (an allow with signals under the scores, as a
        page repeated without its assets gets, `behaviour/no-assets`, is replayed as it was)."""
        self.misses += 1
        caught = self._caught
        caught.clear()
        added: list[tuple[bytes, bytes]] = []

        def seen(message: Message) -> Any:
            if message["type"] == "http.response.start":
                added.extend(message["headers"][message.pop(_OWN, 0) :])
            return send(message)

        # The detectors run before the first await on the MemoryStore: `caught` is this
        # request's (a probe's shortcut: a store that awaits would mix them up).
        running = super().__call__(scope, receive, seen)
        await running
        decision = scope.get("state", {}).get(STATE_KEY)
        if (
            decision is None
            or decision.action is not Action.ALLOW
            or decision.status is not None
            or any(name == b"set-cookie" for name, _ in added)
        ):
            self.table.pop(key, None)
            return
        budget = self.cap
        entry = _Entry(decision, added, budget)
        if (hit := caught.get("rl")) is not None:
            rules, keys, outcome, client = hit
            left = min(s.remaining for s in outcome.states)
            entry.budget = min(budget, left)
            entry.rl = (rules.limits, keys[0], rules.policy_header)
            entry.client = client
        entry.bh = caught.get("bh")
        entry.cookie_page = bool(key[1]) and entry.bh is not None and entry.bh.kind == PAGE
        if len(self.table) >= 100_000:
            self.table.clear()
        self.table[key] = entry


_OWN = "lane.own"  # the message's count of the app's own header lines (see `_Measured`)


class _Measured:
    """The wrapped app, noting in each response start how many header lines are its own, so
    the probe knows which the shield's send wrapper added after them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, partial(_noting, send))


def _noting(send: Send, message: Message) -> Any:
    if message["type"] == "http.response.start":
        message[_OWN] = len(message.get("headers") or ())
    return send(message)


def _caught_hit(caught: dict[str, Any], hit_now: Any, rules: Any, keys: Any, *args: Any) -> Any:
    outcome = hit_now(rules, keys, *args)
    caught["rl"] = (rules, keys, outcome, args[1])  # args: cost, client key, ...
    return outcome


def _caught_request(caught: dict[str, Any], in_memory: Any, store: Any, r: Any, *args: Any) -> Any:
    caught["bh"] = r
    return in_memory(store, r, *args)


def options_from_env() -> dict[str, Any]:
    """BENCH_LANE_CAP (32), BENCH_LANE_COUNT (ratelimit,behaviour), BENCH_LANE_EXTRAS
    (none; ban,identity,fields)."""
    counts = os.environ.get("BENCH_LANE_COUNT", ",".join(sorted(COUNTS)))
    extras = os.environ.get("BENCH_LANE_EXTRAS", "")
    return {
        "cap": int(os.environ.get("BENCH_LANE_CAP", CAP)),
        "count": frozenset(c for c in counts.split(",") if c),
        "extras": frozenset(e for e in extras.split(",") if e),
    }
