"""Behaviour: what an art scraper does that a person's browser does not (docs/behaviour.md).

Per client and fixed window the detector counts page views, full-size image fetches,
subresources (CSS/JS/fonts and images) and conditional requests, and remembers which numbered
items (`/artworks/17`, `/images/17.png`) were fetched recently. Every store command of one request
go to Redis as one script in the request's shared pipeline: no extra round trip.

On the MemoryStore nothing is awaited: a client's four counters of a window are one row
(`MemoryStore.counters`, one lookup instead of four keys), and the sampled preceding ids are read
only when the run could be complete, stopping at the first one not seen (reads there cost no
round trip, so there is nothing to batch).

The signals are weak on purpose: each is below the challenge threshold alone, and together they
stay below the block threshold, so behaviour can at most earn a challenge.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence
from typing import Any, NamedTuple

from scrapeshield.bans import UNKNOWN_CLIENT
from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.detector import Found, Immediate, RequestContext, Sent
from scrapeshield.facts import Facts
from scrapeshield.signals import Signal
from scrapeshield.store.base import Store
from scrapeshield.store.memory import MemoryStore
from scrapeshield.store.redis import RedisStore

IMAGES_WITHOUT_PAGES = "behaviour/images-without-pages"
NO_ASSETS = "behaviour/no-assets"
SEQUENTIAL_IDS = "behaviour/sequential-ids"
WEIGHTS = {IMAGES_WITHOUT_PAGES: 30.0, NO_ASSETS: 25.0, SEQUENTIAL_IDS: 20.0}
"""Defaults, also stated in policy/default.toml; their sum (75) stays below block_score (80)."""

_ITEM_ID = re.compile(r"/(\d{1,12})(?:\.[A-Za-z0-9]{1,8})?/?$")
_ITEM_TAIL = 32  # the id is at the end: only this tail is searched (a match is <= 24 characters)
_SUBRESOURCE_DEST = frozenset({"style", "script", "font", "image"})
_PAGE_DEST = frozenset({"", "document", "iframe", "frame"})
_COUNTERS = ("page", "image", "asset", "cond")
_BUMPS = {
    (kind, conditional): (_COUNTERS.index(kind), 3) if conditional else (_COUNTERS.index(kind),)
    for kind in ("page", "image", "asset")
    for conditional in (False, True)
}
"""The counters (indices into `_COUNTERS`) a request of a kind bumps, conditional or not."""


class BehaviourDetector(Immediate):
    """Counts a client's page/image/asset mix and numbered walks; signals only past thresholds."""

    name = "behaviour"
    uses_store = True

    def __init__(self, settings: BehaviourSettings) -> None:
        self._s = settings
        last = settings.sequential_run - 1
        # A sample of the preceding ids (the nearest three, then quarters of the run): each read
        # is a store command, and a walker that fetched these fetched the others too.
        self._offsets = sorted({1, 2, 3, last // 4, last // 2, last * 3 // 4, last} - {0})
        self._last = last
        self._window = f"{settings.window:g}s"

    def _kind(self, facts: Facts) -> str | None:
        """`page`, `image` or `asset`; None for anything else (API, non-GET, HEAD)."""
        if facts.method != "GET":
            return None
        group = facts.route_group
        if group == "images":
            return "image"
        dest = facts.headers.get("sec-fetch-dest", "").lower()
        if group == "assets" or dest in _SUBRESOURCE_DEST:
            return "asset"
        if group == "default" and dest in _PAGE_DEST:
            return "page"
        return None

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        kind = self._kind(facts)
        if kind is None or facts.client_key == UNKNOWN_CLIENT:
            return ()  # without an address, everyone's requests would add up as one client's
        headers = facts.headers
        conditional = bool(headers.get("if-none-match") or headers.get("if-modified-since"))
        path = facts.path
        item = _ITEM_ID.search(path, max(0, len(path) - _ITEM_TAIL)) if kind != "asset" else None
        ident = item.group(1) if item is not None else None
        client, window = facts.client_key, int(facts.time // self._s.window)
        dry_run = bool(ctx.notes.get("dry_run"))
        store = ctx.store
        if isinstance(store, MemoryStore):
            counts, walked = self._count_in_memory(
                store, client, window, kind, conditional, ident, dry_run
            )
            return self._signals(counts, walked)
        if isinstance(store, RedisStore) and not dry_run:  # the script queued now: no task
            counting = self._count_sent(store, client, window, kind, conditional, ident)
            return Sent(self._signals_later(counting))
        return self._signals_later(
            self._count(store, client, window, kind, conditional, ident, dry_run)
        )

    async def _signals_later(
        self, counting: Awaitable[tuple[Sequence[int], bool]]
    ) -> Sequence[Signal]:
        """`detect_now` on a store that waits (Redis): one script, then the same signals."""
        counts, walked = await counting
        return self._signals(counts, walked)

    def _count_in_memory(
        self,
        store: MemoryStore,
        client: str,
        window: int,
        kind: str,
        conditional: bool,
        ident: str | None,
        dry_run: bool,
    ) -> tuple[Sequence[int], bool]:
        """(page, image, asset, cond) counts and whether the sampled run was all seen."""
        s = self._s
        add = _BUMPS[kind, conditional]
        row = store.counters(f"bh:{{{client}}}:{window}", 4, () if dry_run else add, s.window)
        if dry_run:  # `explain`: count this request locally, write nothing
            row = [count + (i in add) for i, count in enumerate(row)]
        if ident is None:
            return row, False
        if not dry_run:
            store.put(f"bh:{{{client}}}:{kind}-seen:{ident}", "1", s.sequential_ttl)
        n = int(ident)
        if n < self._last:  # the run would start before id 0
            return row, False
        seen = f"bh:{{{client}}}:{kind}-seen:"
        return row, all(store.peek(seen + str(n - i)) for i in self._offsets)

    def _keys(
        self, client: str, window: int, kind: str, conditional: bool, ident: str | None
    ) -> _Keys:
        """The keys one request bumps, reads and marks (every key read up front for Redis)."""
        base = f"bh:{{{client}}}:{window}:"  # {hash tag}: one Cluster slot for the script
        bumps = [kind, "cond"] if conditional else [kind]
        others = [k for k in _COUNTERS if k not in bumps]
        seen = f"bh:{{{client}}}:{kind}-seen:"
        n = int(ident) if ident is not None else -1
        seen_keys = [seen + str(n - i) for i in self._offsets if n - i >= 0]
        reads = [base + k for k in others] + seen_keys
        mark = (seen + ident) if ident is not None else None
        return _Keys([base + k for k in bumps], bumps, others, reads, len(seen_keys), mark)

    async def _count(
        self,
        store: Store,
        client: str,
        window: int,
        kind: str,
        conditional: bool,
        ident: str | None,
        dry_run: bool,
    ) -> tuple[Sequence[int], bool]:
        """As `_count_in_memory`, on any store: one script on Redis."""
        keys = self._keys(client, window, kind, conditional, ident)
        if dry_run:  # `explain`: read what is there, count this request locally, write nothing
            values = await store.get_many(keys.bump_keys + keys.reads)
            results = [_int(v) + 1 for v in values[: len(keys.bumps)]]
            return self._tally(keys, [*results, *values[len(keys.bumps) :]])
        return self._tally(keys, await self._apply(store, keys))

    def _count_sent(
        self,
        store: RedisStore,
        client: str,
        window: int,
        kind: str,
        conditional: bool,
        ident: str | None,
    ) -> Awaitable[tuple[Sequence[int], bool]]:
        """`_count` on Redis with its script queued now (`RedisStore.submit_script`)."""
        keys = self._keys(client, window, kind, conditional, ident)
        return self._tallied(keys, store.submit_script(_SCRIPT, *self._script(keys)))

    async def _tallied(self, keys: _Keys, reply: Awaitable[Any]) -> tuple[Sequence[int], bool]:
        return self._tally(keys, list(await reply))

    def _tally(self, keys: _Keys, results: list[Any]) -> tuple[Sequence[int], bool]:
        """(page, image, asset, cond) counts and whether the sampled run was all seen, from
        the bumped counts followed by the read values."""
        nb = len(keys.bumps)
        read_values = results[nb : nb + len(keys.reads)]
        counts = dict(zip(keys.bumps, [int(r) for r in results[:nb]], strict=True))
        for key, value in zip(keys.others, read_values, strict=False):
            counts[key] = _int(value)
        seen = read_values[len(keys.others) :]
        walked = keys.seen == len(self._offsets) and all(seen)
        return [counts[k] for k in _COUNTERS], walked

    def _signals(self, counts: Sequence[int], walked: bool) -> list[Signal]:
        s = self._s
        out: list[Signal] = []
        pages, images, assets, conditional = counts
        if images >= s.images_without_pages and pages == 0:
            detail = f"{images} images and no page in {self._window}"
            out.append(Signal(IMAGES_WITHOUT_PAGES, WEIGHTS[IMAGES_WITHOUT_PAGES], detail))
        if pages >= s.no_assets_pages and assets + images + conditional == 0:
            detail = f"{pages} pages and no CSS/JS/image in {self._window}"
            out.append(Signal(NO_ASSETS, WEIGHTS[NO_ASSETS], detail))
        if walked:
            detail = f"ids up to {s.sequential_run - 1} before this one all fetched recently"
            out.append(Signal(SEQUENTIAL_IDS, WEIGHTS[SEQUENTIAL_IDS], detail))
        return out

    def _script(self, keys: _Keys) -> tuple[list[str], list[Any]]:
        """The Redis script's keys and arguments: bump, read and mark in one command."""
        s = self._s
        mark = keys.mark
        script_keys = [*keys.bump_keys, *keys.reads, *([mark] if mark else [])]
        window_ms, mark_ms = int(s.window * 1000), int(s.sequential_ttl * 1000)
        return script_keys, [len(keys.bumps), len(keys.reads), window_ms, mark_ms if mark else 0]

    async def _apply(self, store: Store, keys: _Keys) -> list[Any]:
        """Bump, read and mark: one script on Redis (one command, in the same pipeline as the
        rest of the request), plain protocol awaits on any other store."""
        s = self._s
        if isinstance(store, RedisStore):
            return list(await store.run_script(_SCRIPT, *self._script(keys)))
        out: list[Any] = [await store.incr(k, 1, ttl=s.window) for k in keys.bump_keys]
        out += [await store.get(k) for k in keys.reads]
        if keys.mark:
            await store.set(keys.mark, "1", ttl=s.sequential_ttl)
        return out


class _Keys(NamedTuple):
    bump_keys: list[str]
    bumps: list[str]
    others: list[str]
    reads: list[str]
    seen: int
    """How many of the sampled ids before this one exist (all must, for a walk)."""
    mark: str | None


_SCRIPT = """
local nb, nr = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 1, nb do
  local v = redis.call('INCR', KEYS[i])
  if v == 1 or redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
  out[#out + 1] = v
end
for i = nb + 1, nb + nr do
  local v = redis.call('GET', KEYS[i])
  if v then out[#out + 1] = v else out[#out + 1] = false end
end
if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[nb + nr + 1], '1', 'PX', ARGV[4]) end
return out
"""


def _int(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0
