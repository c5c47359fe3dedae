"""Bot fingerprinting through the real pipeline: signals, policy outcomes, operator settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from scrapeshield import Settings
from scrapeshield.errors import ConfigurationError
from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.dnsverify import FCrDNS
from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.fingerprint.verified import VerifiedBotDetector
from scrapeshield.patterns import GlobSet
from scrapeshield.shield import Shield
from scrapeshield.signals import Action, Decision
from scrapeshield.store import MemoryStore

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)
EDGE = CHROME + " Edg/131.0.0.0"
MOBILE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
YANDEX = "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"
NAVIGATION = [
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-GB,en;q=0.9"),
    ("accept-encoding", "gzip, deflate"),
]
FIREFOX_ORDER = [NAVIGATION[0], NAVIGATION[1], NAVIGATION[2]]
CHROMIUM_ORDER = [NAVIGATION[0], NAVIGATION[2], NAVIGATION[1]]  # encoding before language


def navigation(ua: str) -> list[tuple[str, str]]:
    """A navigation's Accept* fields in the order this browser sends them (Chromium puts
    Accept-Encoding before Accept-Language; Firefox and Safari after)."""
    return CHROMIUM_ORDER if "Chrome/" in ua else FIREFOX_ORDER


CHROMIUM_SECURE = [
    ("sec-fetch-site", "none"),
    ("sec-fetch-mode", "navigate"),
    ("sec-fetch-dest", "document"),
    ("sec-ch-ua", '"Chromium";v="131", "Not_A Brand";v="24"'),
]


class FakeResolver:
    """PTR and A records from dicts; counts lookups so caching is observable."""

    def __init__(self, ptr: dict[str, str], addresses: dict[str, list[str]]) -> None:
        self.ptr, self.addresses, self.calls = ptr, addresses, 0

    async def reverse(self, ip: str) -> str | None:
        self.calls += 1
        return self.ptr.get(ip)

    async def forward(self, host: str) -> Sequence[str]:
        return self.addresses.get(host, [])


def scope(
    ua: str | None,
    headers: Sequence[tuple[str, str]] = (),
    *,
    scheme: str = "http",
    host: str = "gallery.example",
    ip: str = "198.51.100.20",
    http_version: str = "1.1",
    path: str = "/",
) -> dict[str, Any]:
    raw = [(b"host", host.encode())]
    if ua is not None:
        raw.append((b"user-agent", ua.encode("latin-1", "replace")))
    raw += [(k.encode(), v.encode()) for k, v in headers]
    return {
        "type": "http",
        "http_version": http_version,
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "query_string": b"",
        "headers": raw,
        "client": (ip, 40000),
    }


@pytest.fixture
async def make_shield() -> AsyncIterator[Any]:
    shields: list[Shield] = []

    def make(resolver: FakeResolver | None = None, **fingerprint: Any) -> Shield:
        shield = Shield(Settings(fingerprint=fingerprint), store=MemoryStore())
        for detector in shield.detectors:
            if isinstance(detector, VerifiedBotDetector):
                detector.dns = FCrDNS(resolver or FakeResolver({}, {}), timeout=0.2)
        shields.append(shield)
        return shield

    yield make
    for shield in shields:
        await shield.aclose()


async def decide(shield: Shield, sc: dict[str, Any]) -> Decision:
    return await shield.decide(shield.facts(sc))


def names(decision: Decision) -> set[str]:
    return {s.name for s in decision.reasons}


@pytest.mark.parametrize(
    "ua", [CHROME, FIREFOX, SAFARI, EDGE, MOBILE_SAFARI, CHROME_ANDROID], ids=str.split
)
async def test_real_browsers_over_plain_http_are_allowed(make_shield: Any, ua: str) -> None:
    decision = await decide(make_shield(), scope(ua, navigation(ua)))
    assert decision.action is Action.ALLOW
    assert decision.score == 0.0, decision.reasons


async def test_real_chrome_over_https_with_its_headers_is_allowed(make_shield: Any) -> None:
    sc = scope(CHROME, NAVIGATION + CHROMIUM_SECURE, scheme="https")
    assert (await decide(make_shield(), sc)).action is Action.ALLOW


async def test_chrome_ua_without_sec_fetch_is_judged_only_on_secure_contexts(
    make_shield: Any,
) -> None:
    shield = make_shield()
    secure = await decide(shield, scope(CHROME, NAVIGATION, scheme="https"))
    assert {"headers/chromium-no-sec-fetch", "headers/chromium-no-client-hints"} <= names(secure)
    localhost = await decide(shield, scope(CHROME, NAVIGATION, host="localhost:8000"))
    assert "headers/chromium-no-sec-fetch" in names(localhost)
    plain = await decide(shield, scope(CHROME, navigation(CHROME)))
    assert not any(n.startswith("headers/") for n in names(plain))


async def test_chrome_ua_from_a_bare_http_library_is_blocked_on_https(make_shield: Any) -> None:
    decision = await decide(make_shield(), scope(CHROME, [("accept", "*/*")], scheme="https"))
    assert decision.action is Action.BLOCK
    assert "headers/accept-any-navigation" in names(decision)


async def test_firefox_with_client_hints_and_http10(make_shield: Any) -> None:
    sc = scope(FIREFOX, [*NAVIGATION, ("sec-ch-ua", '"Chromium";v="131"')], http_version="1.0")
    decision = await decide(make_shield(), sc)
    assert {"headers/firefox-client-hints", "headers/http10"} <= names(decision)
    assert decision.action is Action.CHALLENGE


@pytest.mark.parametrize(
    ("ua", "signal", "action"),
    [
        (
            "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)",
            "ai-training",
            "block",
        ),
        ("Mozilla/5.0 (compatible; ClaudeBot/1.0)", "ai-training", "block"),
        ("python-requests/2.31.0", "scraper-tool", "block"),
        ("curl/8.5.0", "scraper-tool", "block"),
        ("img2dataset", "ai-dataset", "block"),
        ("Mozilla/5.0 (X11) HeadlessChrome/120.0 Safari/537.36", "headless-browser", "challenge"),
    ],
)
async def test_catalogue_categories_map_to_default_actions(
    make_shield: Any, ua: str, signal: str, action: str
) -> None:
    decision = await decide(make_shield(), scope(ua, NAVIGATION))
    assert f"ua/category/{signal}" in names(decision)
    assert decision.action.value == action


async def test_spider_is_matched_as_a_whole_word_only(make_shield: Any) -> None:
    shield = make_shield()
    assert "bot/Spider" in names(await decide(shield, scope("Spider/1.0")))
    decision = await decide(shield, scope("Mozilla/5.0 (compatible; TikTokSpider)"))
    assert "bot/TikTokSpider" in names(decision)
    assert "bot/Spider" not in names(decision)


async def test_empty_oversized_and_binary_user_agents(make_shield: Any) -> None:
    shield = make_shield()
    assert "ua/empty" in names(await decide(shield, scope(None)))
    huge = await decide(shield, scope("Mozilla/5.0 " + "A" * 5000, NAVIGATION))
    assert "ua/oversized" in names(huge)
    binary = await decide(shield, scope("\x00\xff\x80garbage\x01", NAVIGATION))
    assert "ua/bot-like" in names(binary)


async def test_googlebot_verified_by_published_ranges(make_shield: Any) -> None:
    shield = make_shield()
    real = await decide(shield, scope(GOOGLEBOT, ip="66.249.66.1"))
    assert real.action is Action.ALLOW
    assert real.rule == "verified-bot"
    fake = await decide(shield, scope(GOOGLEBOT, ip="198.51.100.9"))
    assert fake.action is Action.BLOCK
    assert fake.rule == "spoofed-crawler"


async def test_yandex_verified_by_forward_confirmed_reverse_dns_and_cached(
    make_shield: Any,
) -> None:
    resolver = FakeResolver(
        {"192.0.2.10": "spider-1.yandex.com.", "192.0.2.11": "spider-2.yandex.com.evil.net"},
        {"spider-1.yandex.com": ["192.0.2.10"], "spider-2.yandex.com.evil.net": ["192.0.2.11"]},
    )
    shield = make_shield(resolver)
    for _ in range(3):
        ok = await decide(shield, scope(YANDEX, ip="192.0.2.10"))
        assert ok.rule == "verified-bot"
    assert resolver.calls == 1
    wrong_suffix = await decide(shield, scope(YANDEX, ip="192.0.2.11"))
    assert wrong_suffix.rule == "spoofed-crawler"
    resolver.ptr["192.0.2.12"] = "spider-3.yandex.com"  # PTR claims it; A record does not agree
    assert (await decide(shield, scope(YANDEX, ip="192.0.2.12"))).rule == "spoofed-crawler"


async def test_dns_timeout_bounds_the_wait(make_shield: Any) -> None:
    class Slow(FakeResolver):
        async def reverse(self, ip: str) -> str | None:
            import asyncio

            await asyncio.sleep(5)
            return None

    shield = make_shield(Slow({}, {}))
    decision = await decide(shield, scope(YANDEX, ip="192.0.2.50"))
    assert decision.rule == "spoofed-crawler"


async def test_operator_allows_a_category_or_one_agent(make_shield: Any) -> None:
    perplexity = "Mozilla/5.0 (compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)"
    default = make_shield()
    assert (await decide(default, scope(perplexity))).action is Action.BLOCK
    allowing = make_shield(allow_categories=["ai-search"])
    genuine = await decide(allowing, scope(perplexity, ip="107.20.236.150"))
    assert genuine.rule == "verified-bot"
    assert (await decide(allowing, scope(perplexity))).rule == "spoofed-crawler"
    assert (await decide(allowing, scope("ClaudeBot/1.0"))).action is Action.BLOCK
    one = make_shield(allow_agents=["ClaudeBot"])
    assert (await decide(one, scope("ClaudeBot/1.0"))).rule == "operator-allowed-bot"
    assert (await decide(one, scope("GPTBot/1.0"))).action is Action.BLOCK


async def test_operator_blocks_a_category(make_shield: Any) -> None:
    shield = make_shield(block_categories=["search-engine"])
    decision = await decide(shield, scope(GOOGLEBOT, ip="66.249.66.1"))
    assert decision.rule == "operator-blocked-bot"


async def test_monitor_mode_reports_without_enforcing() -> None:
    shield = Shield(Settings(mode="monitor"), store=MemoryStore())
    decision = await decide(shield, scope("curl/8.5.0"))
    assert decision.action is Action.BLOCK
    assert not decision.enforced
    assert decision.allowed
    await shield.aclose()


def test_bad_fingerprint_settings_name_the_setting() -> None:
    with pytest.raises(ConfigurationError, match=r"fingerprint\.allow_categories"):
        Settings(fingerprint={"allow_categories": ["ai-everything"]})
    with pytest.raises(ConfigurationError, match=r"fingerprint\.allow_agents"):
        Shield(Settings(fingerprint={"allow_agents": ["NoSuchBot"]}), store=MemoryStore())


async def test_concurrent_claims_share_one_lookup_and_floods_are_bounded() -> None:
    import asyncio

    class Gated(FakeResolver):
        def __init__(self) -> None:
            super().__init__({}, {})
            self.gate = asyncio.Event()

        async def reverse(self, ip: str) -> str | None:
            self.calls += 1
            await self.gate.wait()
            return "crawl.yandex.ru"

        async def forward(self, host: str) -> Sequence[str]:
            return ["192.0.2.1"]

    resolver = Gated()
    dns = FCrDNS(resolver, timeout=2.0, max_concurrent=2)
    same = [asyncio.create_task(dns.verify("192.0.2.1", ("yandex.ru",))) for _ in range(10)]
    other = asyncio.create_task(dns.verify("192.0.2.2", ("yandex.ru",)))
    await asyncio.sleep(0.01)
    assert await dns.verify("192.0.2.3", ("yandex.ru",)) is None  # over the concurrency cap
    resolver.gate.set()
    assert await asyncio.gather(*same) == ["crawl.yandex.ru"] * 10
    assert await other is None  # PTR fine, but the A record does not point back
    assert resolver.calls == 2


async def test_operator_can_reweight_signals() -> None:
    shield = Shield(Settings(policy={"weights": {"headers/*": 0}}), store=MemoryStore())
    decision = await decide(shield, scope(CHROME, [("accept", "*/*")], scheme="https"))
    assert decision.action is Action.ALLOW
    assert decision.score == 0.0
    await shield.aclose()


def test_policy_weights_match_the_detectors_defaults() -> None:
    from scrapeshield.fingerprint import headers, useragent, verified
    from scrapeshield.policy import Policy
    from scrapeshield.policy.engine import load_default_policy
    from scrapeshield.settings import PolicySettings
    from scrapeshield.signals import Signal

    policy = Policy(PolicySettings())
    samples = [
        Signal(f"ua/category/{c}", w, "") for c, w in useragent.CATEGORY_WEIGHTS.items() if w
    ]
    samples += [useragent.EMPTY_UA, useragent.OVERSIZED_UA]
    samples += [Signal("ua/bot-like", useragent.BOT_LIKE_WEIGHT)]
    samples += [Signal("bot/verified/x", verified.VERIFIED_WEIGHT)]
    samples += [Signal("bot/spoofed/x", verified.SPOOFED_WEIGHT)]
    assert all(policy.weight_of(s) == s.weight for s in samples)
    shield = Shield(Settings(), store=MemoryStore())
    classifier = UAClassifier(load_catalogue())
    for ua, extra in ((CHROME, []), (FIREFOX, [("sec-ch-ua", "x")])):
        facts = shield.facts(scope(ua, extra, scheme="https", http_version="1.0"))
        samples += headers.check(facts, classifier.classify(ua))
    assert len({s.name for s in samples if s.name.startswith("headers/")}) == 8
    assert all(policy.weight_of(s) == s.weight for s in samples)
    stated = GlobSet(load_default_policy()["weights"])
    assert [s.name for s in samples if not stated.matches(s.name)] == []
