"""The challenge over real HTTP (uvicorn + httpx): issue, solve, pass, and every way to fail."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from scrapeshield.challenge.pow import check
from scrapeshield.policy import Policy
from scrapeshield.settings import PolicySettings, RouteGroupSpec, Settings
from scrapeshield.signals import Action, Signal
from tests.challenge.conftest import Served, gallery
from tests.challenge.helpers import BROWSER_UA, NAVIGATE, challenge_all, parse_page, solve
from tests.servers import free_port


def navigator(served: Served) -> httpx.Client:
    """An HTTP client that sends what a browser sends for a navigation."""
    return httpx.Client(base_url=served.url, headers=NAVIGATE)


def pass_cookie(
    served: Served, client: httpx.Client, path: str = "/artworks/3", **headers: str
) -> httpx.Response:
    page = client.get(served.url + path, headers={**NAVIGATE, **headers})
    assert page.status_code == 403
    return client.post(
        parse_page(page.text).action,
        data=solve(parse_page(page.text)),
        headers={**NAVIGATE, **headers},
    )


def test_a_solved_challenge_sets_a_pass_and_lands_on_the_page() -> None:
    with gallery(challenge_all()) as served, navigator(served) as client:
        page = client.get("/artworks/3?from=home", headers=NAVIGATE)
        assert page.status_code == 403
        assert page.headers["x-robots-tag"] == "noindex"
        assert page.headers["cache-control"] == "no-store"
        assert "script-src 'nonce-" in page.headers["content-security-policy"]
        assert 'href="/terms"' in page.text
        assert "Test Gallery" in page.text
        assert "<script src" not in page.text
        assert "http" not in page.text.split("<body>")[1]

        answer = client.post(parse_page(page.text).action, data=solve(parse_page(page.text)))
        assert answer.status_code == 303
        assert answer.headers["location"] == "/artworks/3?from=home"
        cookie = answer.headers["set-cookie"].lower()
        for attribute in ("httponly", "samesite=lax", "path=/", "max-age=86400"):
            assert attribute in cookie
        assert "secure" not in cookie  # plain http here; https gets Secure

        real = client.get("/artworks/3?from=home", headers=NAVIGATE)
        assert real.status_code == 200
        assert "<article class=artwork>" in real.text
        # noindex only on the challenge itself; the page keeps its AI opt-out directives
        assert "noindex" not in real.headers.get("x-robots-tag", "")
        assert real.headers["x-robots-tag"] == "noai, noimageai"
        image = client.get("/images/3.png", headers={"User-Agent": BROWSER_UA})
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert served.event_names() == ["challenge/issued", "challenge/passed"]


def test_the_same_solution_cannot_be_used_twice() -> None:
    with gallery(challenge_all()) as served, navigator(served) as client:
        page = parse_page(client.get("/", headers=NAVIGATE).text)
        answer = solve(page)
        assert client.post(page.action, data=answer).status_code == 303
        replay = client.post(page.action, data=answer, headers=NAVIGATE)
        assert replay.status_code == 403
        assert "replay" in replay.text
        assert "set-cookie" not in replay.headers
        failed = [e for e in served.events() if e["event"] == "challenge/failed"]
        assert [e["reasons"][0]["name"] for e in failed] == ["challenge/failed/replay"]


def test_wrong_or_missing_work_is_refused() -> None:
    with gallery(challenge_all(difficulty=12)) as served, navigator(served) as c:
        page = parse_page(c.get("/", headers=NAVIGATE).text)
        wrong = next(n for n in range(10_000) if not check(page.nonce, n, page.difficulty))
        data = {"token": page.token, "counter": str(wrong)}
        bad = c.post(page.action, data=data, headers={"Accept": "application/json"})
        assert bad.status_code == 403
        assert bad.json()["error"] == "challenge"
        assert "Try again" in c.post(page.action, data=data).text  # HTML for a browser
        assert c.post(page.action, data={"token": page.token}).status_code == 403
        assert c.post(page.action, data={"counter": "1"}).status_code == 403
        assert c.post(page.action, content=b"\xff\x00" * 5000).status_code == 403
        assert c.put(page.action).status_code == 405
        reasons = [e["reasons"][0]["name"] for e in served.events()[1:]]
        assert reasons == [
            "challenge/failed/work",
            "challenge/failed/work",
            "challenge/failed/malformed",
            "challenge/failed/malformed",
            "challenge/failed/malformed",
        ]


def test_a_pass_is_bound_to_the_address_and_user_agent() -> None:
    """The adversary: one pass shared by the addresses of a /24 (or the /64s of a /48)."""
    settings = challenge_all(settings={"trusted_proxies": ["127.0.0.1/32"]})
    home = {"X-Forwarded-For": "198.51.100.7"}
    with gallery(settings) as served, navigator(served) as client:
        assert pass_cookie(served, client, **home).status_code == 303
        assert client.get("/artworks/1", headers={**NAVIGATE, **home}).status_code == 200
        neighbours = [f"198.51.100.{n}" for n in (1, 8, 200, 254)]
        for address in [*neighbours, "203.0.113.5"]:
            moved = {**NAVIGATE, "X-Forwarded-For": address}
            assert client.get("/artworks/1", headers=moved).status_code == 403, address
        other_ua = {**NAVIGATE, **home, "User-Agent": BROWSER_UA.replace("131", "132")}
        assert client.get("/artworks/1", headers=other_ua).status_code == 403
        rejected = [
            s["detail"]
            for e in served.events()
            for s in e["reasons"]
            if s["name"] == "challenge/pass-rejected"
        ]
        assert rejected == ["pass cookie: binding"] * 6


def test_an_ipv6_pass_holds_within_its_64_only() -> None:
    settings = challenge_all(settings={"trusted_proxies": ["127.0.0.1/32"]})
    home = {"X-Forwarded-For": "2001:db8:1:2::7"}
    with gallery(settings) as served, navigator(served) as client:
        assert pass_cookie(served, client, **home).status_code == 303
        privacy_address = {**NAVIGATE, "X-Forwarded-For": "2001:db8:1:2:abcd::99"}
        assert client.get("/artworks/1", headers=privacy_address).status_code == 200
        other_64 = {**NAVIGATE, "X-Forwarded-For": "2001:db8:1:3::7"}
        assert client.get("/artworks/1", headers=other_64).status_code == 403


def test_the_operator_can_bind_passes_to_a_wider_network() -> None:
    settings = challenge_all(ipv4_prefix=24, settings={"trusted_proxies": ["127.0.0.1/32"]})
    with gallery(settings) as served, navigator(served) as client:
        assert pass_cookie(served, client, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 303
        same_net = {**NAVIGATE, "X-Forwarded-For": "198.51.100.200"}
        assert client.get("/artworks/1", headers=same_net).status_code == 200


def test_an_answer_solved_elsewhere_is_refused() -> None:
    settings = challenge_all(settings={"trusted_proxies": ["127.0.0.1/32"]})
    with gallery(settings) as served, navigator(served) as client:
        page = parse_page(
            client.get("/", headers={**NAVIGATE, "X-Forwarded-For": "198.51.100.7"}).text
        )
        moved = client.post(
            page.action,
            data=solve(page),
            headers={**NAVIGATE, "X-Forwarded-For": "192.0.2.1"},
        )
        assert moved.status_code == 403
        assert "binding" in moved.text


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("GET", "/api/artworks", "text/html"),
        ("GET", "/images/1.png", "image/avif,image/webp,*/*"),
        ("GET", "/artworks/1", "application/json"),
        ("POST", "/artworks/1", "text/html"),
        ("GET", "/static/gallery.css", "text/css,*/*;q=0.1"),
    ],
)
def test_non_navigations_get_json_never_a_page(method: str, path: str, accept: str) -> None:
    # The default `api` group never challenges (on_challenge = "throttle"); one that does
    # answers a JSON refusal, never a page.
    api = RouteGroupSpec(name="api", paths=["/api/*"], on_challenge="challenge")
    groups = [g for g in Settings().route_groups if g.name != "api"] + [api]
    settings = challenge_all(settings={"route_groups": groups})
    with gallery(settings) as served, navigator(served) as client:
        headers = {"User-Agent": BROWSER_UA, "Accept": accept}
        response = client.request(method, path, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"] == "challenge"
        assert served.event_names() == ["decision"]  # not counted as an issued challenge


@pytest.mark.parametrize("path", ["//evil.example/steal", "/\\evil.example/x", "/%0d%0aX:y"])
def test_no_open_redirect(path: str) -> None:
    with gallery(challenge_all()) as served, navigator(served) as client:
        response = pass_cookie(served, client, path)
        assert response.status_code == 303
        assert response.headers["location"] in ("/", "/%0D%0AX:y")


def test_noscript_fallback_is_time_locked() -> None:
    with (
        # (2 s: the early request must come within the wait, on a loaded machine too)
        gallery(challenge_all(noscript_wait=2)) as served,
        navigator(served) as client,
    ):
        page = parse_page(client.get("/artworks/9", headers=NAVIGATE).text)
        assert page.wait_url is not None
        early = client.get(page.wait_url, headers=NAVIGATE)
        assert early.status_code == 403
        assert "too-early" in early.text
        time.sleep(2.1)
        late = client.get(page.wait_url, headers=NAVIGATE)
        assert late.status_code == 303
        assert late.headers["location"] == "/artworks/9"
        assert client.get("/artworks/9", headers=NAVIGATE).status_code == 200
        assert client.get(page.wait_url, headers=NAVIGATE).status_code == 403  # replay


def test_noscript_fallback_can_be_turned_off() -> None:
    with (
        gallery(challenge_all(noscript_fallback=False)) as served,
        navigator(served) as client,
    ):
        page = client.get("/", headers=NAVIGATE)
        assert parse_page(page.text).wait_url is None
        assert "<noscript>" not in page.text


def test_difficulty_grows_with_the_score() -> None:
    with gallery(challenge_all(difficulty_step=20)) as served, navigator(served) as client:
        calm = parse_page(client.get("/", headers=NAVIGATE).text)
        empty = client.get("/", headers={"Accept": "text/html", "User-Agent": ""})
        no_agent = parse_page(empty.text)
        # score 0 is 10 above the threshold (-10): 8 bits; ua/empty (50) makes 60 above: 11
        assert (calm.difficulty, no_agent.difficulty) == (8, 11)


def test_a_pass_never_lifts_bans_or_the_blocklist() -> None:
    settings = challenge_all(settings={"blocklist": [{"name": "no-terms", "paths": ["/terms"]}]})
    with gallery(settings) as served, navigator(served) as client:
        assert pass_cookie(served, client).status_code == 303
        assert client.get("/artworks/1", headers=NAVIGATE).status_code == 200
        blocked = client.get("/terms", headers=NAVIGATE)
        assert blocked.status_code == 403
        assert "Access denied" in blocked.text
        asyncio.run(served.shield.ban("127.0.0.1", 60, reason="test"))
        banned = client.get("/artworks/1", headers=NAVIGATE)
        assert banned.status_code == 403
        assert "Access denied" in banned.text


def test_a_pass_never_lifts_a_rate_limit_and_verified_bots_are_not_challenged() -> None:
    policy = Policy(PolicySettings())
    passed = Signal("challenge/passed", -40.0)
    limited = policy.evaluate([Signal("ratelimit/pages", 0.0, retry_after=3.0), passed])
    assert (limited.action, limited.rule) == (Action.THROTTLE, "rate-limit")
    bot = policy.evaluate([Signal("bot/verified/googlebot", 0.0), Signal("ua/empty", 50.0)])
    assert bot.action is Action.ALLOW


def test_monitor_mode_issues_nothing() -> None:
    settings = challenge_all(settings={"mode": "monitor"})
    with gallery(settings) as served, navigator(served) as client:
        assert client.get("/artworks/2", headers=NAVIGATE).status_code == 200
        assert served.event_names() == ["decision"]


def test_the_pass_cookie_is_secure_over_https() -> None:
    settings = challenge_all(settings={"trusted_proxies": ["127.0.0.1/32"]})
    https = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    with gallery(settings) as served, navigator(served) as client:
        answer = pass_cookie(served, client, **https)
        assert answer.status_code == 303
        assert "; secure" in answer.headers["set-cookie"].lower()


def test_a_dead_store_never_turns_the_challenge_into_an_error() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = challenge_all(settings={"store_url": dead, "store_timeout": 0.1})
    with gallery(settings) as served, navigator(served) as client:
        answer = pass_cookie(served, client)  # replay check unavailable: the answer is accepted
        assert answer.status_code == 303
        assert client.get("/artworks/3").status_code == 200
