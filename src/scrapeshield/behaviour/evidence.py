"""What a client's recent requests say, turned into behaviour signals (docs/behaviour.md).

Pure functions of what the store returned: the counters of this window and the previous one
(weighted as a sliding window), the client's recent ids of this request's kind, and whether
this original had its own artwork page shortly before. No store access here.
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.signals import Signal

IMAGES_PER_PAGE = "behaviour/images-per-page"
ORIGINALS_WITHOUT_PAGE = "behaviour/originals-without-page"
NO_ASSETS = "behaviour/no-assets"
SEQUENTIAL_IDS = "behaviour/sequential-ids"
HARVESTING = "behaviour/harvesting"
WEIGHTS = {
    IMAGES_PER_PAGE: 40.0,
    ORIGINALS_WITHOUT_PAGE: 40.0,
    NO_ASSETS: 25.0,
    SEQUENTIAL_IDS: 20.0,
    HARVESTING: 100.0,
}
"""Defaults, also stated in policy/default.toml. The two image signals challenge alone (a pass
answers them); `harvesting`, their threshold exceeded by `harvest_margin` more originals, is
blocked by a rule, which a pass never lifts."""

PAGE, IMAGE, ASSET, COND, ORPHAN = range(5)
FIELDS = "piaco"
"""Counter fields: pages, images (originals), assets, conditional requests, orphan originals
(no own page shortly before, not embedded)."""
LAGS = 3
"""Strides are taken from the last three ids, so up to three interleaved walks are seen."""


def walk_length(ident: int, recent: Sequence[int]) -> int:
    """How many ids, this one included, form a constant-stride walk ending here (either
    direction, any stride) among `recent` (oldest first)."""
    best = 1
    seen: set[int] | None = None
    for previous in recent[-LAGS:]:
        stride = ident - previous
        if stride == 0 or ident - 2 * stride not in recent:  # most requests end here
            best = max(best, 2) if stride else best
            continue
        if seen is None:
            seen = set(recent)
        k, limit = 3, len(seen) + 1
        while k < limit and ident - k * stride in seen:
            k += 1
        best = max(best, k)
    return best


def no_assets_detail(pages: float, rendered: float) -> str:
    """No-assets' detail. `round` gives the whole number `:.0f` prints (both round half to
    even, exactly, and neither count is negative), without its float formatting: a leased
    page builds this detail per request (docs/log/architecture.md, "The replay, measured")."""
    return f"{round(pages)} pages and {round(rendered)} CSS/JS/image requests"


def judge(
    s: BehaviourSettings,
    kind: int,
    now: float,
    current: Sequence[int],
    previous: Sequence[int],
    walk: int,
) -> list[Signal]:
    """The signals for one request of `kind` (PAGE or IMAGE or ASSET), given the counters of
    the current and previous window (this request counted) and its walk length."""
    window = s.window
    weight = 1.0 - (now % window) / window  # the previous window's share: a sliding window
    out: list[Signal] = []
    if kind == IMAGE:
        images = current[IMAGE] + previous[IMAGE] * weight
        pages = current[PAGE] + previous[PAGE] * weight
        allowed = max(pages, 1.0) * s.images_per_page
        orphans = current[ORPHAN] + previous[ORPHAN] * weight
        harvest = ""
        if images > allowed:
            detail = (
                f"{images:.0f} originals for {pages:.0f} page views (> {s.images_per_page:g} each)"
            )
            out.append(Signal(IMAGES_PER_PAGE, WEIGHTS[IMAGES_PER_PAGE], detail))
            if images > allowed + s.harvest_margin:
                harvest = detail
        if orphans >= s.originals_without_page:
            detail = f"{orphans:.0f} originals without their own page shortly before"
            if not out:  # one image signal at most: together they would block by score
                out.append(Signal(ORIGINALS_WITHOUT_PAGE, WEIGHTS[ORIGINALS_WITHOUT_PAGE], detail))
            if orphans >= s.originals_without_page + s.harvest_margin:
                harvest = detail
        if harvest:
            out.append(Signal(HARVESTING, WEIGHTS[HARVESTING], harvest))
    elif kind == PAGE:
        pages = current[PAGE] + previous[PAGE] * weight
        if pages >= s.no_assets_pages:
            rendered = (  # (written out: a generator's sum costs a page 5.9-7.0k instructions)
                (current[IMAGE] + previous[IMAGE] * weight)
                + (current[ASSET] + previous[ASSET] * weight)
                + (current[COND] + previous[COND] * weight)
            )
            if rendered * 10 < pages:
                out.append(Signal(NO_ASSETS, WEIGHTS[NO_ASSETS], no_assets_detail(pages, rendered)))
    if walk >= s.sequential_run:
        detail = f"{walk} ids in a constant-stride walk within {s.sequential_ttl:g}s"
        out.append(Signal(SEQUENTIAL_IDS, WEIGHTS[SEQUENTIAL_IDS], detail))
    return out
