"""The request sequences the differential harness sends: the simulated person
(benchmarks/person.py's page loads) and in-process versions of the efficacy harness's
adversaries (benchmarks/efficacy: copied browser headers, a fast and a paced scraper, rotating
addresses, a header order no browser sends, no user agent, a datacenter address, verified and
false crawler claims, AI crawlers' user agents)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from benchmarks import person
from benchmarks.bench_person import scopes
from benchmarks.efficacy.headers import GO_HTTP_CLIENT, chrome

from tests.fastlane.differential import Request, Twins

__all__ = ["ADVERSARIES", "Request", "person"]

HOST = "gallery.test"
BASE = f"https://{HOST}"
DATACENTER_IP = "3.5.140.7"  # in AWS's published ranges (tests/test_datacenter.py)
GOOGLE_IP = "66.249.66.1"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
_WEBKIT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko"
AI_AGENTS = (
    f"{_WEBKIT}); compatible; GPTBot/1.2; +https://openai.com/gptbot",
    f"{_WEBKIT}; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "CCBot/2.0 (https://commoncrawl.org/faq/)",
)


def returning_cookies(twins: Twins, count: int) -> list[str]:
    """Visitor tokens of `count` returning people (`persons`' addresses), made by the twins' own
    (shared) key."""
    out = []
    for who in range(count):
        headers = [*person.page(HOST, "/", None, who), ("x-forwarded-for", person.address(who))]
        out.append(twins.mint(Request("/", headers, ip="127.0.0.1").scope()))
    return out


def persons(count: int, loads: int, cookies: list[str], pace: float = 1.0) -> list[Request]:
    """`count` people, `loads` page loads each (page, stylesheet, script, original), taking
    turns, `pace` seconds apart, its assets a quarter of that (person.py's paced schedule; each
    its own address and cookie)."""
    text = person.schedule(HOST, cookies[:count], paced=True)
    size = 1 + len(person.ASSETS)
    out = []
    for index, scope in enumerate(scopes(text)[: count * loads * size]):
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
        out.append(
            Request(
                scope["path"], headers, ip="127.0.0.1", after=pace / 4 if index % size else pace
            )
        )
    return out


def readers(count: int, loads: int, cookies: list[str]) -> list[Request]:
    """`persons` at a reader's pace: each person's page load 5 to 30 s after their previous one
    (the fake clock; the people take turns), its page reloaded, its stylesheet, script and
    original, each a few hundredths of a second after the last (the reload: the client seen
    again within a lease's life, so granted a lease, which the reading outlives unused)."""
    size = 1 + len(person.ASSETS)
    out = []
    for i, r in enumerate(persons(count, loads, cookies)):
        if i % size:
            out.append(replace(r, after=0.03))
        else:
            out += [
                replace(r, after=(5.0 + (i // size * 7919) % 26) / count),
                replace(r, after=0.03),
            ]
    return out


def _pages(ip: str, headers: list[tuple[str, str]], count: int, after: float) -> Iterator[Request]:
    for n in range(count):
        yield Request(f"/artworks/{n % 40 + 1}", [("Host", HOST), *headers], ip=ip, after=after)


def copied_browser(count: int = 120, after: float = 0.05) -> list[Request]:
    """Chromium's recorded navigation headers, copied, fast: limits, challenges, bans."""
    return list(_pages("198.51.100.20", chrome().navigation(BASE, "/"), count, after))


def paced_scraper(count: int = 40) -> list[Request]:
    return list(_pages("198.51.100.21", chrome().navigation(BASE, "/"), count, 3.0))


def rotating_addresses(count: int = 60) -> list[Request]:
    headers = chrome().navigation(BASE, "/")
    return [
        Request(
            f"/artworks/{n + 1}",
            [("Host", HOST), *headers],
            ip=f"198.51.{n % 3}.{n + 1}",
            after=0.1,
        )
        for n in range(count)
    ]


def header_order(count: int = 30) -> list[Request]:
    """Chromium's fields in reversed order: an order Chromium never sends."""
    headers = list(reversed(chrome().navigation(BASE, "/")))
    return list(_pages("198.51.100.22", headers, count, 0.3))


def empty_user_agent(count: int = 20) -> list[Request]:
    headers = [h for h in chrome().navigation(BASE, "/") if h[0].lower() != "user-agent"]
    return [*_pages("198.51.100.23", headers, count, 0.3), *_pages("198.51.100.24", [], count, 0.3)]


def datacenter(count: int = 30) -> list[Request]:
    return list(_pages(DATACENTER_IP, chrome().navigation(BASE, "/"), count, 0.3))


def crawler_claims(count: int = 20) -> list[Request]:
    """Googlebot from Google's address (verified) and from others (a false claim, one of them
    a datacenter's), alternating: the datacenter detector reads the verified detector's note."""
    ua = [("User-Agent", GOOGLEBOT), ("Accept", "*/*")]
    out: list[Request] = []
    for n in range(count):
        ip = (GOOGLE_IP, "198.51.100.25", DATACENTER_IP)[n % 3]
        out.extend(_pages(ip, ua, 1, 0.2))
    return out


def ai_crawlers(count: int = 10) -> list[Request]:
    out: list[Request] = []
    for n, agent in enumerate(AI_AGENTS):
        ua = [("User-Agent", agent), ("Accept", "*/*")]
        out.extend(_pages(f"198.51.100.{30 + n}", ua, count, 0.2))
    return out


def libraries(count: int = 15) -> list[Request]:
    """Go's and curl's defaults, and a user agent that changes on one address."""
    out = list(_pages("198.51.100.40", GO_HTTP_CLIENT, count, 0.2))
    out += _pages("198.51.100.41", [("User-Agent", "curl/8.5.0"), ("Accept", "*/*")], count, 0.2)
    browser = chrome().navigation(BASE, "/")
    for n in range(count):
        agent = AI_AGENTS[0] if n % 2 else chrome().user_agent
        headers = [(k, agent if k.lower() == "user-agent" else v) for k, v in browser]
        out.extend(_pages("198.51.100.42", headers, 1, 0.2))
    return out


ADVERSARIES = {
    "copied-browser": copied_browser,
    "paced-scraper": paced_scraper,
    "rotating-addresses": rotating_addresses,
    "header-order": header_order,
    "empty-user-agent": empty_user_agent,
    "datacenter": datacenter,
    "crawler-claims": crawler_claims,
    "ai-crawlers": ai_crawlers,
    "libraries": libraries,
}


# -- counted signals that leases replay (docs/leases.md, "Replayed signals") ------------------

TARGET_IP = "198.51.100.50"
EDGE = 600.0
"""Identity's issuance and pool windows (600 s), a multiple of behaviour's (300 s)."""


def _edge(now: float) -> float:
    """The next turn of the 600 s windows after `now` (the harness's clock)."""
    return (now // EDGE + 1) * EDGE


def _at(now: float, start: float, requests: list[Request]) -> list[Request]:
    """`requests` with the first sent at `start` (the clock at `now` before it)."""
    return [replace(requests[0], after=start - now), *requests[1:]] if requests else []


def target_row(now: float, after: float = 0.05, ip: str = TARGET_IP) -> list[Request]:
    """benchmarks.run's target row: one cookie-less Chrome page repeated fast, from one address
    (tokens issued for 10 pages, then `identity/issuance-limited`; from the 30th page
    `behaviour/no-assets` too), in three bursts: the first just after a turn of the 600 s
    windows, the second across behaviour's next turn (300 s: its previous window's pages
    weigh less with each request), the third across the next 600 s turn (issuance, the pool
    and behaviour all turn: tokens are issued again)."""
    edge = _edge(now)
    page = [("Host", HOST), *chrome().navigation(BASE, "/")]
    out: list[Request] = []
    for start, count in ((edge + 1.0, 150), (edge + 299.6, 100), (edge + 599.7, 100)):
        burst = [Request("/artworks/7", page, ip=ip, after=after) for _ in range(count)]
        out += _at(now, start, burst)
        now = start + after * (count - 1)
    return out


def mixed_scraper(now: float, count: int = 300) -> list[Request]:
    """A cookie-less scraper mixing pages (one page over and over, then 20 ids in a row: a walk
    from the 15th, then ids in no order), an original after every eighth page and a
    stylesheet after every twelfth request (the odd asset), 0.04 s apart."""
    ip, pages, out = "198.51.100.51", 0, []
    navigation = [("Host", HOST), *chrome().navigation(BASE, "/")]
    for n in range(count):
        if n % 12 == 11:
            headers = [("Host", HOST), *chrome().style(BASE, "/artworks/5")]
            out.append(Request("/static/gallery.css", headers, ip=ip, after=0.04))
            continue
        pages += 1
        ident = 5 if pages <= 60 else 40 + pages if pages <= 80 else (pages * 17) % 97 + 1
        out.append(Request(f"/artworks/{ident}", navigation, ip=ip, after=0.04))
        if pages % 8 == 0:
            headers = [("Host", HOST), *chrome().image(BASE, f"/artworks/{ident}")]
            out.append(Request(f"/images/{ident:04d}.png", headers, ip=ip, after=0.04))
    return _at(now, _edge(now) + 2.0, out)


def alternating_asset(now: float, count: int = 240) -> list[Request]:
    """The cheapest try at riding a replayed no-assets: a cookie-less scraper that, once
    no-assets is signalled (40 pages), fetches its stylesheet after every ninth page (leased
    too, from its second), so that the signal holds while its asset count moves under the page
    lease that replays it (any other request of the client ends such a lease: the next page is
    evaluated in full, on counts that include the stylesheet, as without leases)."""
    ip, out = "192.0.2.52", []  # (a /24 of its own: the mixed scraper took the network's budget)
    navigation = [("Host", HOST), *chrome().navigation(BASE, "/")]
    style = [("Host", HOST), *chrome().style(BASE, "/artworks/3")]
    for n in range(count):
        if n >= 40 and n % 10 == 9:
            out.append(Request("/static/gallery.css", style, ip=ip, after=0.03))
        else:
            out.append(Request("/artworks/3", navigation, ip=ip, after=0.03))
    return _at(now, _edge(now) + 3.0, out)


COOKIE_IP = "203.0.113.53"  # (a /24 of its own too)


def with_cookie(twins: Twins, count: int = 120) -> list[Request]:
    """A scraper keeping its visitor token (issued before, by the twins' key) and fetching no
    assets: no-assets from its 30th page, replayed on Redis too (identity's issuance is not in
    play)."""
    page = [("Host", HOST), *chrome().navigation(BASE, "/")]
    cookie = twins.mint(Request("/artworks/9", page, ip=COOKIE_IP).scope())
    headers = [*page, ("Cookie", cookie)]
    out = [Request("/artworks/9", headers, ip=COOKIE_IP, after=0.05) for _ in range(count)]
    return _at(twins.clock.now, _edge(twins.clock.now) + 4.0, out)


def pool_rotation(now: float, count: int = 40) -> list[Request]:
    """A cookie-less client leased while issuance is limited (its first 40 pages), then two
    pages from new addresses of other networks after each of its pages: the same browser
    build's young identities pass the pool's threshold (16) within one of its leases (granted
    at under half), and its next page signals `identity/rotating-pool` (the other networks'
    evaluations keep its lease: its replay reads the pool, in memory from the store, on Redis
    from this worker's evaluations)."""
    page = [("Host", HOST), *chrome().navigation(BASE, "/")]
    out = [Request("/artworks/11", page, ip="192.0.2.60", after=0.02) for _ in range(40)]
    for n in range(count):
        out.append(Request("/artworks/12", page, ip=f"100.64.{n}.9", after=0.01))
        out.append(Request("/artworks/12", page, ip=f"100.65.{n}.9", after=0.01))
        out.append(Request("/artworks/11", page, ip="192.0.2.60", after=0.01))
    return _at(now, _edge(now) + 5.0, out)


def paging_with_originals(now: float, count: int = 400, every: int = 50) -> list[Request]:
    """The target row ten times as fast, its original after every `every` pages: sent 32 at a
    time (`Twins.send_together`) an original comes while the page's next lease is on its way,
    and reads the counts (the address's tokens, the page ring) its pages move."""
    ip, out = "198.51.100.52", []
    page = [("Host", HOST), *chrome().navigation(BASE, "/")]
    image = [("Host", HOST), *chrome().image(BASE, "/artworks/7")]
    for n in range(1, count + 1):
        out.append(Request("/artworks/7", page, ip=ip, after=0.005))
        if n % every == 0:
            out.append(Request("/images/0007.png", image, ip=ip, after=0.005))
    return _at(now, _edge(now) + 3.0, out)
