"""Behaviour: what an art scraper does that a person's browser does not (docs/behaviour.md).

Per client and fixed window the detector counts page views, full-size image fetches,
subresources (CSS/JS/fonts and images) and conditional requests, and remembers which numbered
items (`/artworks/17`, `/images/17.png`) were fetched recently. Every store command of one request
go to Redis as one script in the request's shared pipeline: no extra round trip.

The signals are weak on purpose: each is below the challenge threshold alone, and together they
stay below the block threshold, so behaviour can at most earn a challenge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from scrapeshield.behaviour_settings import BehaviourSettings
from scrapeshield.detectors.base import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.signals import Signal
from scrapeshield.store.base import Store
from scrapeshield.store.redis import RedisStore

IMAGES_WITHOUT_PAGES = "behaviour/images-without-pages"
NO_ASSETS = "behaviour/no-assets"
SEQUENTIAL_IDS = "behaviour/sequential-ids"
WEIGHTS = {IMAGES_WITHOUT_PAGES: 30.0, NO_ASSETS: 25.0, SEQUENTIAL_IDS: 20.0}
"""Defaults, also stated in policy/default.toml; their sum (75) stays below block_score (80)."""

_ITEM_ID = re.compile(r"/(\d{1,12})(?:\.[A-Za-z0-9]{1,8})?/?$")
_SUBRESOURCE_DEST = frozenset({"style", "script", "font", "image"})
_PAGE_DEST = frozenset({"", "document", "iframe", "frame"})


class BehaviourDetector:
    """Counts a client's page/image/asset mix and numbered walks; signals only past thresholds."""

    name = "behaviour"
    uses_store = True

    def __init__(self, settings: BehaviourSettings) -> None:
        self._s = settings
        last = settings.sequential_run - 1
        # A sample of the preceding ids (the nearest three, then quarters of the run): each read
        # is a store command, and a walker that fetched these fetched the others too.
        self._offsets = sorted({1, 2, 3, last // 4, last // 2, last * 3 // 4, last} - {0})

    def _kind(self, facts: Facts) -> str | None:
        """`page`, `image` or `asset`; None for anything else (API, non-GET, HEAD)."""
        if facts.method != "GET":
            return None
        dest = facts.header("sec-fetch-dest").lower()
        if facts.route_group == "images":
            return "image"
        if facts.route_group == "assets" or dest in _SUBRESOURCE_DEST:
            return "asset"
        if facts.route_group == "default" and dest in _PAGE_DEST:
            return "page"
        return None

    async def detect(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        kind = self._kind(facts)
        if kind is None:
            return ()
        s = self._s
        client = facts.client_key
        window = int(facts.time // s.window)
        base = f"bh:{{{client}}}:{window}:"  # {hash tag}: one Cluster slot for the script
        counters = {k: base + k for k in ("page", "image", "asset", "cond")}
        bumps = {kind: 1}
        if facts.header("if-none-match") or facts.header("if-modified-since"):
            bumps["cond"] = 1
        reads = [counters[k] for k in counters if k not in bumps]
        item = _ITEM_ID.search(facts.path) if kind in ("page", "image") else None
        seen_keys: list[str] = []
        if item is not None:
            n = int(item.group(1))
            seen = f"bh:{{{client}}}:{kind}-seen:"
            seen_keys = [seen + str(n - i) for i in self._offsets if n - i >= 0]
            reads += seen_keys
        store = ctx.store
        dry_run = bool(ctx.notes.get("dry_run"))
        if dry_run:  # `explain`: read what is there, count this request locally, write nothing
            values = await store.get_many([counters[k] for k in bumps] + reads)
            bumped = [_int(v) + 1 for v in values[: len(bumps)]]
            read_values = values[len(bumps) :]
        else:
            mark = (seen + item.group(1)) if item is not None else None
            results = await self._apply(store, [counters[k] for k in bumps], reads, mark)
            bumped = [int(r) for r in results[: len(bumps)]]
            read_values = results[len(bumps) : len(bumps) + len(reads)]
        count = dict(zip(bumps, bumped, strict=True))
        for key, value in zip([k for k in counters if k not in bumps], read_values, strict=False):
            count[key] = _int(value)
        return self._signals(count, read_values[len(reads) - len(seen_keys) :], seen_keys)

    def _signals(
        self, count: dict[str, int], seen: list[str | None], seen_keys: list[str]
    ) -> list[Signal]:
        s = self._s
        out: list[Signal] = []
        pages, images = count.get("page", 0), count.get("image", 0)
        subresources = count.get("asset", 0) + images + count.get("cond", 0)
        if images >= s.images_without_pages and pages == 0:
            detail = f"{images} images and no page in {s.window:g}s"
            out.append(Signal(IMAGES_WITHOUT_PAGES, WEIGHTS[IMAGES_WITHOUT_PAGES], detail))
        if pages >= s.no_assets_pages and subresources == 0:
            detail = f"{pages} pages and no CSS/JS/image in {s.window:g}s"
            out.append(Signal(NO_ASSETS, WEIGHTS[NO_ASSETS], detail))
        if seen_keys and len(seen_keys) == len(self._offsets) and all(seen):
            detail = f"ids up to {s.sequential_run - 1} before this one all fetched recently"
            out.append(Signal(SEQUENTIAL_IDS, WEIGHTS[SEQUENTIAL_IDS], detail))
        return out

    async def _apply(
        self, store: Store, bumps: list[str], reads: list[str], mark: str | None
    ) -> list[Any]:
        """Bump, read and mark: one script on Redis (one command, in the same pipeline as the
        rest of the request), plain awaits on the memory store (no round trip to share)."""
        s = self._s
        if isinstance(store, RedisStore):
            keys = [*bumps, *reads, *([mark] if mark else [])]
            window_ms, mark_ms = int(s.window * 1000), int(s.sequential_ttl * 1000)
            args = [len(bumps), len(reads), window_ms, mark_ms if mark else 0]
            return list(await store.run_script(_SCRIPT, keys, args))
        out: list[Any] = [await store.incr(k, 1, ttl=s.window) for k in bumps]
        out += [await store.get(k) for k in reads]
        if mark:
            await store.set(mark, "1", ttl=s.sequential_ttl)
        return out


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
