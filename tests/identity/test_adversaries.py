"""The cheapest clients that copy a browser, against the demo with default settings, and the
person who must never be refused (issue 14). Real HTTP, real uvicorn, both event loops."""

from __future__ import annotations

import random

import httpx
import pytest

from tests.browsers import chrome
from tests.identity.helpers import Browser, demo, demo_settings, person
from tests.servers import LOOPS, redis_store_settings

pytestmark = pytest.mark.clock_hour


@pytest.mark.parametrize("loop", LOOPS)
def test_the_person_is_never_refused_and_answers_at_most_one_challenge(loop: str) -> None:
    """A heavy hour: 46 artworks, nearly all different, past the visitor budget (40), so the
    person answers one challenge; below the refuse mark (48), so nothing is a decoy."""
    with demo(loop=loop) as server:
        tally = person(server.url, artworks=46)
    assert tally.refused == 0, tally.statuses
    assert tally.decoys == 0
    assert tally.challenges == 1
    assert set(tally.statuses) <= {200}, tally.statuses
    assert len(tally.originals) >= 41


def test_a_deep_link_to_an_original_is_served() -> None:
    """Someone opens /images/7.png from a social site: no token, no page, served."""
    with demo() as server, httpx.Client(base_url=server.url) as client:
        headers = chrome()  # a navigation straight to the image
        answer = client.get("/images/7.png", headers=headers)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/png"


@pytest.mark.parametrize("loop", LOOPS)
def test_a_browser_copy_with_cookies_stops_at_the_visitor_budget(loop: str) -> None:
    """Chrome's headers, a cookie jar, each artwork's page then its original, random order,
    no pauses: the visitor budget (40 an hour) challenges it, and it cannot answer."""
    order = random.Random(1).sample(range(1, 301), 300)
    with demo(loop=loop) as server:
        browser = Browser(server.url)
        browser.open("/")
        for artwork in order:
            browser.view(artwork, assets=False)
        browser.close()
    assert len(browser.tally.originals) <= 40
    assert browser.tally.challenges > 0


def test_a_proof_of_work_solver_is_refused_past_the_refusal_mark() -> None:
    """It answers every challenge: budgets still refuse it past 1.2x the visitor budget (a
    decoy: the originals past 48 are placeholders)."""
    with demo() as server:
        browser = Browser(server.url, solve_challenges=100)
        browser.open("/")
        for artwork in range(1, 301):
            browser.view(artwork, assets=False)
        browser.close()
    assert len(browser.tally.originals) <= 48
    assert browser.tally.decoys > 0
    assert browser.tally.solved >= 1


@pytest.mark.parametrize("loop", LOOPS)
def test_an_originals_walker_that_takes_a_token_when_refused_gains_nothing(loop: str) -> None:
    """Originals only, in order, no pages; when refused it opens the artwork's page (taking a
    visitor token, answering any challenge) and asks again: the token's budget holds what its
    address took without one, so it stops at the refuse mark (48), not 48 more."""
    with demo(loop=loop) as server:
        browser = Browser(server.url, solve_challenges=100)
        for artwork in range(1, 301):
            if browser.image(artwork) != 200 or artwork not in browser.tally.originals:
                browser.open(f"/artworks/{artwork}", assets=False)
                browser.image(artwork)
        browser.close()
    assert len(browser.tally.originals) <= 48
    assert browser.tally.decoys > 0


def test_a_client_that_drops_its_cookies_gains_nothing() -> None:
    """Clearing cookies for a fresh token each time: counted per address, no-token and amnesia
    on its originals, and the visitor budget falls back to the address."""
    with demo() as server:
        browser = Browser(server.url, keep_cookies=False)
        for artwork in range(1, 301):
            browser.view(artwork, assets=False)
        browser.close()
    assert len(browser.tally.originals) <= 40


@pytest.mark.parametrize("loop", LOOPS)
def test_five_source_addresses_share_one_network_budget(loop: str) -> None:
    """Five loopback source addresses (127.0.0.2-6), one cookie jar each, round robin."""
    with demo(loop=loop) as server:
        pool = [Browser(server.url, source=f"127.0.0.{n}") for n in range(2, 7)]
        for browser in pool:
            browser.open("/")
        for artwork in range(1, 301):
            pool[artwork % 5].view(artwork, assets=False)
        for browser in pool:
            browser.close()
    total = set().union(*(b.tally.originals for b in pool))
    assert len(total) <= 40  # the network's hour is one visitor's


@pytest.mark.parametrize(
    "addresses",
    [
        [f"198.51.100.{n}" for n in range(1, 255)],  # every address of one /24
        [f"2001:db8:7:{n:x}::1" for n in range(256)],  # /64s of one /48
    ],
    ids=["ipv4-24", "ipv6-48"],
)
def test_forwarded_for_rotation_within_a_network(addresses: list[str]) -> None:
    settings = demo_settings(trusted_proxies=["127.0.0.1/32"])
    with demo(settings) as server:
        pool = [Browser(server.url, forwarded_for=a) for a in addresses]
        got = 0
        for n, artwork in enumerate(range(1, 301)):
            browser = pool[n % len(pool)]
            browser.view(artwork, assets=False)
        for browser in pool:
            got += len(browser.tally.originals)
            browser.close()
    assert got <= 40


def test_a_pool_across_networks_meets_the_rotating_pool_signal() -> None:
    """256 addresses in 256 different /24s, one browser build, a token each: a pool."""
    settings = demo_settings(trusted_proxies=["127.0.0.1/32"])
    with demo(settings) as server:
        pool = [Browser(server.url, forwarded_for=f"203.{n}.113.7") for n in range(256)]
        for n, artwork in enumerate(range(1, 301)):
            pool[n % 256].view(artwork, assets=False)
        total = sum(len(b.tally.originals) for b in pool)
        for browser in pool:
            browser.close()
    assert total <= 100


def test_on_redis_the_person_passes_and_the_copy_stops(redis_url: str, redis_prefix: str) -> None:
    """The same budgets on the shared store (HyperLogLog counts) over real HTTP."""
    settings = demo_settings(**redis_store_settings(redis_url, redis_prefix))
    with demo(settings) as server:
        tally = person(server.url, artworks=46)
        copy = Browser(server.url, source="127.0.0.9")
        copy.open("/")
        for artwork in range(1, 301):
            copy.view(artwork, assets=False)
        copy.close()
    assert tally.refused == 0
    assert tally.decoys == 0
    assert tally.challenges <= 1
    assert len(copy.tally.originals) <= 41  # HyperLogLog counts: within one of exact here
    assert copy.tally.challenges > 0
