"""The scripted adversaries of issue 14 (browser headers, proof of work, rotation) and issue 15
(the bypasses), all built on the harvester."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import requests

from benchmarks.efficacy import solver
from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.core import BROWSERLIKE, NAIVE, POOL, Ledger
from benchmarks.efficacy.harvest import Harvester, Identity
from benchmarks.efficacy.headers import chrome, firefox
from benchmarks.efficacy.server import ServerOptions
from scrapeshield.demo.art import ARTWORK_COUNT

PROXY = ServerOptions(trusted_proxies=("127.0.0.1/32",))
GIVE_UP = 30  # refusals in a row, as the harvester


def loopback(count: int) -> list[Identity]:
    """127.0.0.2 .. : extra loopback source addresses, one /24."""
    return [Identity(source=f"127.0.0.{2 + i}") for i in range(count)]


def pool(count: int) -> list[Identity]:
    """Loopback sources in `count` different /24s (127.1.0.1, 127.1.1.1, ...): a proxy pool."""
    return [Identity(source=f"127.{1 + i // 256}.{i % 256}.1") for i in range(count)]


def forwarded_v4() -> list[Identity]:
    """Every address of one /24 (TEST-NET-2), as X-Forwarded-For through the trusted proxy."""
    net = ipaddress.ip_network("198.51.100.0/24")
    return [Identity(forwarded_for=str(a)) for a in net.hosts()]


def forwarded_v6() -> list[Identity]:
    """256 /64s of one /48 (documentation prefix), as X-Forwarded-For."""
    return [Identity(forwarded_for=f"2001:db8:14:{i:x}::1") for i in range(256)]


@dataclass
class RequestsSolver(Adversary):
    """python-requests with a Chrome User-Agent string only (what most scraper tutorials do),
    which solves the challenge (`pow`) or takes the no-JS wait (`wait`) and keeps the pass,
    then walks the originals in order, honouring Retry-After on 429."""

    mode: str = "pow"

    def run(self, base_url: str, ledger: Ledger) -> None:
        solved = []
        with requests.Session() as session:
            session.headers["User-Agent"] = chrome().user_agent
            artwork = 1
            refused = 0
            while artwork <= ARTWORK_COUNT and not ledger.done() and refused < GIVE_UP:
                path = f"/images/{artwork}.png"
                kind = self._get(session, base_url, path, ledger)
                if kind == "challenge" and self._solve(session, base_url, artwork, ledger):
                    solved.append(artwork)
                    kind = self._get(session, base_url, path, ledger)
                if kind == "throttle":
                    refused += 1
                    continue  # _get slept for Retry-After
                refused = 0 if kind == "ok" else refused + 1
                artwork += 1
        ledger.notes.append(f"challenges solved ({self.mode}): {len(solved)}")
        if refused >= GIVE_UP:
            ledger.notes.append(f"gave up after {refused} refusals in a row")

    def _get(self, session: requests.Session, base: str, path: str, ledger: Ledger) -> str:
        answer = session.get(base + path, timeout=15, allow_redirects=False)
        headers = {k.lower(): v for k, v in answer.headers.items()}
        kind = ledger.record(path, answer.status_code, answer.content, headers)
        if kind == "throttle":
            retry = headers.get("retry-after", "1")
            wait = float(retry) if retry.isdigit() else 1.0
            if wait < ledger.time_left():
                import time

                time.sleep(wait)
        return kind

    def _solve(self, session: requests.Session, base: str, artwork: int, ledger: Ledger) -> bool:
        path = f"/artworks/{artwork}"
        page = session.get(base + path, headers={"Accept": "text/html"}, timeout=15)
        ledger.record(path, page.status_code, page.content, {})
        found = solver.parse(page.content)
        if found is None:
            return False
        if self.mode == "wait":
            if found.wait_url is None or found.wait_seconds >= ledger.time_left():
                return False
            import time

            time.sleep(found.wait_seconds + 0.2)
            answer = session.get(base + found.wait_url, timeout=15, allow_redirects=False)
            ledger.record(found.wait_url, answer.status_code, answer.content, {})
        else:
            body, hashes, seconds = solver.form(found)
            answer = session.post(
                base + found.action,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=15,
                allow_redirects=False,
            )
            ledger.record(found.action, answer.status_code, answer.content, {})
            ledger.notes.append(
                f"proof of work: {found.difficulty} bits, {hashes:,} hashes, {seconds:.2f} s"
            )
        return answer.status_code in (302, 303)


def browser_headers() -> list[Adversary]:
    threat = "browser headers"
    return [
        Harvester("chrome-paced", threat, BROWSERLIKE,
                  "recorded Chromium 156 headers + cookie jar; index, assets, then page + original "
                  "per artwork in random order, paced by RateLimit", headers=chrome),
        Harvester("chrome-jitter", threat, BROWSERLIKE,
                  "as chrome-paced, with 0.3-1 s random pauses between artworks",
                  headers=chrome, jitter=(0.3, 1.0), slow=True),
        Harvester("firefox-paced", threat, BROWSERLIKE,
                  "published Firefox 147 headers + cookie jar, as chrome-paced",
                  headers=firefox),
        Harvester("firefox-jitter", threat, BROWSERLIKE,
                  "as firefox-paced, with 0.3-1 s random pauses", headers=firefox,
                  jitter=(0.3, 1.0), slow=True),
    ]  # fmt: skip


def proof_of_work() -> list[Adversary]:
    threat = "proof of work"
    return [
        RequestsSolver("pow-python", threat, BROWSERLIKE,
                       "python-requests + Chrome UA string; solves the PoW in Python, keeps "
                       "the pass, walks originals in order", mode="pow"),
        RequestsSolver("nojs-wait", threat, BROWSERLIKE,
                       "as pow-python, but takes the no-JS path (waits, then follows the "
                       "refresh URL)", mode="wait"),
    ]  # fmt: skip


def rotation() -> list[Adversary]:
    threat = "rotation"
    return [
        Harvester("rotate-5-sources", threat, BROWSERLIKE,
                  "Chrome headers, 5 loopback source addresses 127.0.0.2-6 (one cookie jar "
                  "each), page + original per artwork, round robin",
                  headers=chrome, identities=lambda: loopback(5)),
        Harvester("xff-rotate-v4-24", threat, BROWSERLIKE,
                  "Chrome headers, X-Forwarded-For rotating over 198.51.100.0/24 through a "
                  "trusted proxy", headers=chrome, identities=forwarded_v4, options=PROXY),
        Harvester("xff-rotate-v6-48", threat, BROWSERLIKE,
                  "Chrome headers, X-Forwarded-For rotating over 256 /64s of 2001:db8:14::/48 "
                  "through a trusted proxy", headers=chrome, identities=forwarded_v6,
                  options=PROXY),
        Harvester("pool-256", threat, POOL,
                  "Chrome headers, 256 source addresses in 256 /24s (127.1.0.1 ...), one "
                  "cookie jar each, page + original per artwork", headers=chrome,
                  identities=lambda: pool(256)),
    ]  # fmt: skip


def bypasses() -> list[Adversary]:
    threat = "bypass (issue 15)"
    return [
        Harvester("walk-padded", threat, BROWSERLIKE,
                  "Chrome headers, originals only, /images/0001.png upwards, paced",
                  headers=chrome, order="ascending", pages=False, index_first=False,
                  assets=False, padded=True),
        Harvester("walk-descending", threat, BROWSERLIKE,
                  "Chrome headers, originals only, 300 down to 1, paced", headers=chrome,
                  order="descending", pages=False, index_first=False, assets=False),
        Harvester("index-then-images", threat, BROWSERLIKE,
                  "Chrome headers, one index view (with assets), then originals only in "
                  "random order, paced", headers=chrome, pages=False),
        RequestsTwitterbot("twitterbot-requests", threat, NAIVE,
                           "python-requests with User-Agent: Twitterbot/1.0, originals in "
                           "order, honours Retry-After"),
        Harvester("chrome-pow-sustained", threat, BROWSERLIKE,
                  "Chrome headers, no page views, originals only in order, paced; solves "
                  "the PoW whenever challenged and keeps the pass", headers=chrome,
                  order="ascending", pages=False, index_first=False, assets=False, solve="pow"),
        Harvester("fake-listing-referer", threat, BROWSERLIKE,
                  "Chrome headers, never views a page: originals only, in random order, each "
                  "as an <img> (Sec-Fetch-Dest: image) with the index as Referer, paced",
                  headers=chrome, pages=False, index_first=False, assets=False),
        Harvester("pow-cookie-clearing", threat, BROWSERLIKE,
                  "as chrome-pow-sustained, and clears its cookies (token and pass) whenever "
                  "an original is refused, so the next challenge buys a fresh identity",
                  headers=chrome, order="ascending", pages=False, index_first=False,
                  assets=False, solve="pow", forget=True),
        Harvester("pow-rotate-5-sources", threat, POOL,
                  "Chrome headers, 5 loopback source addresses 127.0.0.2-6 (one cookie jar "
                  "each), page + original per artwork, round robin; solves the PoW whenever "
                  "challenged", headers=chrome, identities=lambda: loopback(5), solve="pow"),
    ]  # fmt: skip


@dataclass
class RequestsTwitterbot(RequestsSolver):
    def run(self, base_url: str, ledger: Ledger) -> None:
        with requests.Session() as session:
            session.headers["User-Agent"] = "Twitterbot/1.0"
            artwork, refused = 1, 0
            while artwork <= ARTWORK_COUNT and not ledger.done() and refused < GIVE_UP:
                kind = self._get(session, base_url, f"/images/{artwork}.png", ledger)
                if kind == "throttle":
                    refused += 1
                    continue
                refused = 0 if kind == "ok" else refused + 1
                artwork += 1
            if refused >= GIVE_UP:
                ledger.notes.append(f"gave up after {refused} refusals in a row")
