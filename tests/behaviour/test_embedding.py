"""An original counts as embedded in a page only if this client viewed that page lately: a
Referer naming a listing (or another work's page) of this site is a claim the detector checks
against the pages the client viewed, on the memory store and a real Redis (both loops)."""

from __future__ import annotations

import random

import pytest

from scrapeshield.shield import Shield
from scrapeshield.store.base import Store
from tests.behaviour.test_behaviour import IMG, PAGE, decide, names, settings

pytestmark = pytest.mark.both_loops
ORPHANS = "behaviour/originals-without-page"
IDS = random.Random(3).sample(range(1, 301), 12)  # more than originals_without_page (10)


def shown_on(page: str) -> dict[str, str]:
    return {**IMG, "Referer": f"http://localhost{page}"}


async def test_a_listing_referer_without_the_listing_is_no_embedding(store: Store) -> None:
    shield = Shield(settings(), store=store)
    seen = [await decide(shield, f"/images/{n}.png", shown_on("/")) for n in IDS]
    assert ORPHANS in names(seen[-1])


async def test_a_viewed_listing_embeds_its_originals(store: Store) -> None:
    shield = Shield(settings(), store=store)
    await decide(shield, "/", PAGE)
    await decide(shield, "/tags/cats", PAGE)
    seen = [await decide(shield, f"/images/{n}.png", shown_on("/tags/cats")) for n in IDS]
    assert not any(ORPHANS in names(d) for d in seen)
    # another listing, never viewed by this client, is still only a claim
    others = [await decide(shield, f"/images/{n}.png", shown_on("/tags/dogs")) for n in IDS]
    assert ORPHANS in names(others[-1])


async def test_a_work_page_referer_must_be_a_page_viewed(store: Store) -> None:
    shield = Shield(settings(), store=store)
    await decide(shield, "/artworks/5", PAGE)
    viewed = [await decide(shield, f"/images/{n}.png", shown_on("/artworks/5")) for n in IDS]
    assert not any(ORPHANS in names(d) for d in viewed)  # e.g. "more by this artist"
    claimed = [
        await decide(shield, f"/images/{n}.png", shown_on("/artworks/6"), ip="203.0.113.8")
        for n in IDS
    ]
    assert ORPHANS in names(claimed[-1])


async def test_an_image_without_a_referer_of_this_site_is_not_checked(store: Store) -> None:
    """A no-referrer policy or another site's page: nothing to check against (as before)."""
    shield = Shield(settings(), store=store)
    seen = [await decide(shield, f"/images/{n}.png", IMG) for n in IDS]
    assert not any(ORPHANS in names(d) for d in seen)
