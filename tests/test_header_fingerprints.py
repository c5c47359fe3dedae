"""Header fingerprints per browser family (issue 15, section 2): the data against its own
captures, the cheapest clients that passed before over real HTTP, and browsers beside them."""

from __future__ import annotations

import asyncio
import contextlib
import tomllib
from collections.abc import Iterator

import httpx
import pytest
import requests

from scrapeshield.demo.app import TRAP_PATH, create_app
from scrapeshield.fingerprint.catalogue import DATA
from scrapeshield.fingerprint.header_order import core_names, library_of, load_header_data
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action, Decision
from tests.browsers import CHROME_UA, FIREFOX_UA, chrome, chrome_image, firefox
from tests.challenge.conftest import LoopRecorder, shield_of
from tests.servers import LOOPS, serve

CAPTURES = tomllib.loads(DATA.joinpath("header_captures.toml").read_text("utf-8"))
EXPECTED = {
    "python-requests": "python-requests",
    "python-requests+browser-ua": "python-requests",
    "python-requests+browser-headers": "python-requests",
    "httpx": "httpx",
    "httpx+browser-ua": "httpx",
    "aiohttp+browser-ua": "aiohttp",
    "urllib": "urllib",
    "urllib+browser-ua": "urllib",
    "curl": "curl",
    "curl+browser-ua": "curl",
    "node-undici": "node-undici",
    "node-undici+browser-ua": "node-undici",
}
"""The `+browser-headers` captures of the other libraries send Chromium's order exactly: a
copied header set in the right order cannot be told by order (behaviour is what catches it).
aiohttp's defaults (no Connection) are not named: an old Safari could send that order, and
aiohttp's own User-Agent is no browser's anyway."""
GO_WITH_BROWSER_HEADERS = [  # net/http: Host, User-Agent, the rest sorted, Accept-Encoding last
    "host", "user-agent", "accept", "accept-language", "sec-ch-ua", "sec-ch-ua-mobile",
    "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "upgrade-insecure-requests",
    "accept-encoding",
]  # fmt: skip


def browser_orders() -> list[tuple[str, str, list[str]]]:
    """(label, family, names) of every browser request the data and the tests know."""
    data = load_header_data()
    out = [(f"chromium {c['kind']}", "chromium", c["order"]) for c in CAPTURES["chromium"]]
    for family in ("firefox", "safari"):
        for positions in data.families[family].orders:
            out.append((family, family, sorted(positions, key=positions.__getitem__)))
    out.append(("tests chrome()", "chromium", [k.lower() for k in chrome(Referer="x")]))
    out.append(("tests firefox()", "firefox", [k.lower() for k in firefox(Referer="x")]))
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_library_capture_is_recognised(name: str) -> None:
    [capture] = [c for c in CAPTURES["library"] if c["name"] == name]
    assert library_of(capture["order"]) == EXPECTED[name], capture["order"]


def test_go_is_recognised_by_its_sorted_fields() -> None:
    assert library_of(GO_WITH_BROWSER_HEADERS) == "go-net-http"


@pytest.mark.parametrize(("label", "family", "order"), browser_orders(), ids=str)
def test_no_browser_order_looks_like_a_library_or_breaks_its_family(
    label: str, family: str, order: list[str]
) -> None:
    assert library_of(order) == "", (label, order)
    known = load_header_data().families[family]
    assert known.order_consistent(core_names(order)), (label, order)


async def decide(headers: list[tuple[str, str]], path: str = "/artworks/3") -> Decision:
    shield = Shield(Settings(ratelimit={"enabled": False}))
    try:
        return await shield.decide(shield.facts(synthetic_scope(path=path, headers=headers)))
    finally:
        await shield.aclose()


def names(decision: Decision) -> set[str]:
    return {s.name for s in decision.reasons}


async def test_people_score_zero_on_https() -> None:
    for headers in (chrome(), firefox(), chrome_image("https://localhost/artworks/3")):
        decision = await decide(list(headers.items()))
        assert decision.score == 0.0, decision.reasons


async def test_client_hints_must_agree_with_the_user_agent() -> None:
    lying = chrome(**{"Sec-CH-UA": '"Chromium";v="120", "Not_A Brand";v="24"'})
    decision = await decide(list(lying.items()))
    assert "headers/client-hints-mismatch" in names(decision)
    assert decision.action is Action.CHALLENGE
    edge = chrome(
        **{"User-Agent": CHROME_UA + " Edg/131.0.0.0"},
        **{"Sec-CH-UA": '"Microsoft Edge";v="131", "Chromium";v="131", "Not_A Brand";v="24"'},
    )
    assert (await decide(list(edge.items()))).score == 0.0


async def test_an_original_fetched_as_a_document_is_a_direct_download() -> None:
    decision = await decide(list(chrome().items()), path="/images/3.png")
    assert "headers/document-on-image" in names(decision)
    assert decision.action is Action.ALLOW  # one direct link is a person's; behaviour counts


async def test_firefox_and_safari_are_judged_on_what_they_send_to_secure_contexts() -> None:
    bare = [("User-Agent", FIREFOX_UA), ("Accept", "text/html"), ("Accept-Language", "en"),
            ("Accept-Encoding", "gzip")]  # fmt: skip
    decision = await decide(bare)
    assert "headers/firefox-no-sec-fetch" in names(decision)
    assert decision.action is Action.CHALLENGE
    safari = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/{} Safari/605.1.15"
    )
    fields = [("Accept", "text/html"), ("Accept-Encoding", "gzip")]
    old = await decide([*fields, ("User-Agent", safari.format("16.3")), ("Accept-Language", "en")])
    assert old.score == 0.0, old.reasons
    new = await decide([*fields, ("User-Agent", safari.format("17.2")), ("Accept-Language", "en")])
    assert "headers/safari-no-sec-fetch" in names(new)


@contextlib.contextmanager
def demo(loop: str) -> Iterator[str]:
    settings = Settings(
        directives={"trap_paths": [TRAP_PATH]}, challenge={"secret_keys": ["k" * 32]}
    )
    app = create_app(settings)
    recorder = LoopRecorder(app)
    with serve(recorder, loop=loop) as server:
        try:
            yield server.url.replace("127.0.0.1", "localhost")  # a secure context
        finally:
            if recorder.loop is not None:
                closing = shield_of(app).aclose()
                asyncio.run_coroutine_threadsafe(closing, recorder.loop).result(timeout=5)


@pytest.mark.slow
@pytest.mark.parametrize("loop", LOOPS)
def test_the_cheapest_copies_are_refused_and_browsers_are_not(loop: str) -> None:
    """Before: each of these scored 0 or less than the challenge threshold."""
    bare_firefox = {"User-Agent": FIREFOX_UA, "Accept": "text/html,*/*;q=0.8",
                    "Accept-Language": "en-US", "Accept-Encoding": "gzip"}  # fmt: skip
    lying_chrome = chrome(**{"Sec-CH-UA": '"Chromium";v="99", "Not_A Brand";v="24"'})
    with demo(loop) as url, httpx.Client(base_url=url, timeout=5) as client:
        assert client.get("/artworks/1", headers=bare_firefox).status_code == 403
        assert client.get("/artworks/1", headers=lying_chrome).status_code == 403
        with requests.Session() as session:  # a library's order under browser headers
            assert session.get(f"{url}/artworks/1", headers=chrome(), timeout=5).status_code == 403
            firefox_ua = {"User-Agent": FIREFOX_UA}
            assert (
                session.get(f"{url}/artworks/1", headers=firefox_ua, timeout=5).status_code == 403
            )
        assert client.get("/artworks/2", headers=chrome()).status_code == 200
        assert client.get("/artworks/2", headers=firefox()).status_code == 200


SAFARI_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
)
SAFARI_NAVIGATION = {  # iOS Safari 18.5's order over HTTP/2 (rama's capture, browser_headers.toml)
    "Sec-Fetch-Dest": "document",
    "User-Agent": SAFARI_UA,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-Mode": "navigate",
    "Accept-Language": "en-GB,en;q=0.9",
    "Priority": "u=0, i",
    "Accept-Encoding": "gzip, deflate, br",
}
SAFARI_HTTP11 = [  # iOS Safari 18.5's order over HTTP/1.1 (rama's capture)
    *list(SAFARI_NAVIGATION.items()),
    ("Connection", "keep-alive"),
]


def as_safari(headers: dict[str, str]) -> list[tuple[str, str]]:
    """Another client's fields, in its order, under Safari's User-Agent, without the client
    hints Safari never sends."""
    return [
        (k, SAFARI_UA if k == "User-Agent" else v)
        for k, v in headers.items()
        if not k.startswith("Sec-CH-")
    ]


async def test_safari_in_its_own_orders_scores_zero() -> None:
    for headers in (list(SAFARI_NAVIGATION.items()), SAFARI_HTTP11):
        decision = await decide(headers)
        assert decision.score == 0.0, decision.reasons


@pytest.mark.parametrize(
    ("label", "headers"),
    [("chrome", as_safari(chrome())), ("firefox", as_safari(firefox()))],
)
async def test_a_safari_user_agent_in_another_browsers_order_is_flagged(
    label: str, headers: list[tuple[str, str]]
) -> None:
    decision = await decide(headers)
    assert "headers/order/safari" in names(decision), (label, decision.reasons)
    assert decision.action is Action.ALLOW  # 20 alone: a reordering proxy is not refused


async def test_a_safari_user_agent_in_a_librarys_order_is_flagged() -> None:
    [capture] = [c for c in CAPTURES["library"] if c["name"] == "python-requests+browser-headers"]
    fields = dict(SAFARI_NAVIGATION, Connection="keep-alive", Host="localhost")
    by_name = {k.lower(): (k, v) for k, v in fields.items()}
    headers = [by_name[n] for n in capture["order"] if n in by_name and n != "host"]
    decision = await decide(headers)
    assert "headers/library-order/python-requests" in names(decision), decision.reasons
    assert decision.action is Action.CHALLENGE


@pytest.mark.parametrize(
    ("dest", "accept"),
    [("image", "image/webp,image/avif,image/*,*/*;q=0.8"), (None, "image/webp,*/*;q=0.5")],
)
async def test_a_safari_image_request_is_not_judged_by_an_order_no_capture_holds(
    dest: str | None, accept: str
) -> None:
    """Safari's captures are navigations, fetch, XHR and posts; its image requests' order is
    unknown, so a real Safari showing a page's images must not score for it. A library's order
    under a Safari User-Agent is still recognised."""
    fields = dict(SAFARI_NAVIGATION, Accept=accept)
    for key in ("Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site"):
        fields.pop(key, None)
    if dest is not None:
        fields.update(
            {"Sec-Fetch-Dest": dest, "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "same-origin"}
        )
    shuffled = list(reversed(list(fields.items())))  # an order no capture shows
    decision = await decide(shuffled)
    assert "headers/order/safari" not in names(decision), decision.reasons
    navigation = list(reversed(list(SAFARI_NAVIGATION.items())))
    assert "headers/order/safari" in names(await decide(navigation))
