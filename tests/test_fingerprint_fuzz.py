"""Whatever a client sends, the fingerprint detectors return signals and never raise."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
import ua_parser
from hypothesis import given, settings
from hypothesis import strategies as st
from ua_parser import Domain
from ua_parser import regex as ua_regex

from scrapeshield.defences import RequestContext
from scrapeshield.facts import FactsBuilder
from scrapeshield.fingerprint import uacues, uarules
from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.headers import check
from scrapeshield.fingerprint.uaclass import CACHED_AGENT_CHARS, UAClassifier
from scrapeshield.fingerprint.uaparse import (
    ParsedAgent,
    is_crawler_rule,
    self_naming_resolver,
    shared_resolver,
)
from scrapeshield.fingerprint.webbotauth import KeyDirectory, WebBotAuthDetector
from scrapeshield.settings import Settings
from scrapeshield.store import MemoryStore

CLASSIFIER = UAClassifier(load_catalogue(), cache_size=64)
BUILDER = FactsBuilder(Settings())
latin1 = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=600)


async def _no_directory(url: str) -> bytes:
    raise OSError("offline")


@settings(max_examples=300, deadline=None)
@given(ua=latin1, accept=latin1, sig_input=latin1, signature=latin1, agent=latin1)
def test_detectors_never_raise(
    ua: str, accept: str, sig_input: str, signature: str, agent: str
) -> None:
    headers = [
        (b"user-agent", ua.encode("latin-1")),
        (b"accept", accept.encode("latin-1")),
        (b"sec-ch-ua", accept.encode("latin-1")),
        (b"signature-input", sig_input.encode("latin-1")),
        (b"signature", signature.encode("latin-1")),
        (b"signature-agent", agent.encode("latin-1")),
    ]
    scope = {"type": "http", "scheme": "https", "headers": headers, "client": ("192.0.2.1", 1)}
    facts = BUILDER.build(scope)
    info = CLASSIFIER.classify(facts.user_agent)
    assert isinstance(info.is_bot, bool)
    check(facts, info)
    detector = WebBotAuthDetector(CLASSIFIER, KeyDirectory(_no_directory))
    ctx = RequestContext(MemoryStore())
    asyncio.run(detector.detect(facts, ctx))


@settings(max_examples=300, deadline=None)
@given(components=latin1, created=latin1, expires=latin1, alg=latin1, sig=latin1)
def test_well_shaped_but_wrong_signature_input_never_raises(
    components: str, created: str, expires: str, alg: str, sig: str
) -> None:
    clean = [s.replace(")", "").replace(",", "") for s in (components, created, expires, alg)]
    sig_input = (
        f'sig1=("@authority" {clean[0]});created={clean[1]};expires={clean[2]}'
        f';keyid="k";alg="{clean[3]}";tag="web-bot-auth"'
    )

    async def directory(url: str) -> bytes:
        return b'{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}'

    headers = [
        (b"user-agent", b"ChatGPT Agent"),
        (b"signature-input", sig_input.encode("latin-1")),
        (b"signature", f"sig1=:{sig}:".encode("latin-1")),
        (b"signature-agent", b'"https://chatgpt.com"'),
    ]
    facts = BUILDER.build({"type": "http", "headers": headers, "client": ("192.0.2.1", 1)})
    detector = WebBotAuthDetector(CLASSIFIER, KeyDirectory(directory))
    signals = asyncio.run(detector.detect(facts, RequestContext(MemoryStore())))
    assert [s.name for s in signals] == ["webbotauth/invalid"]


def test_a_flood_of_long_agents_keeps_the_cache_within_its_characters() -> None:
    """The cache counts characters too: `user_agent_max_length` may be 16,384, and 16 entries
    of that would be 32 times what 16 agents of the default 512 characters hold."""
    classifier = UAClassifier(load_catalogue(), cache_size=16)
    bound = 16 * CACHED_AGENT_CHARS
    long_agents = [f"agent{n}/1.0 " + "x" * 4000 for n in range(40)]
    for agent in long_agents:
        first = classifier.classify(agent)
        assert sum(map(len, classifier._cache)) <= bound
        assert classifier.classify(agent) == first  # held while it is the newest
    assert len(classifier._cache) == bound // len(long_agents[0])  # 2 of 4,000-odd characters
    larger = "y" * (bound + 1)  # larger than the whole cache: answered, not held
    assert classifier.classify(larger).is_bot
    assert classifier._cache == {} or sum(map(len, classifier._cache)) <= bound
    short = [f"tool{n}/1.0" for n in range(40)]  # short agents: the entry count still bounds
    for agent in short:
        classifier.classify(agent)
    assert len(classifier._cache) == 16
    assert classifier.classify(short[-1]) == classifier._cache[short[-1]]


def test_ua_parser_is_asked_only_where_its_answer_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of never-seen agents must not cost ua-parser's resolver where the rules decide
    without it (its lazy DFAs' caches fill with random text's states, and the search that meets
    a clear costs 0.3-1.3 ms): a catalogue agent, punctuation no agent is written in, a bot word,
    a program's product token. A browser's answer still carries its family, version and OS."""
    classifier = UAClassifier(load_catalogue(), cache_size=64)
    asked: list[tuple[str, Domain]] = []
    resolver = classifier._resolver

    def counted(extractor: Any, domain: Domain) -> SimpleNamespace:
        def extract(text: str) -> Any:  # (ua-parser-rs is untyped)
            asked.append((text, domain))
            return extractor.extract(text)

        return SimpleNamespace(extract=extract)

    spy = SimpleNamespace(
        ua=counted(resolver.ua, Domain.USER_AGENT), os=counted(resolver.os, Domain.OS)
    )
    monkeypatch.setattr(classifier, "_resolver", spy)
    for decided in (
        "curl/8.5.0",
        "Foo/1.0",
        "Mozilla/5.0 (compatible; FooBot/1.0)",
        "Mozilla/5.0 (X11; 1) " + '"<>{}|~^`\\@#$%&*=?!' * 3,
    ):
        assert classifier.classify(decided).is_bot, decided
        assert classifier.classify(decided).family == "Other"
    assert asked == []
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    info = classifier.classify(firefox)
    assert (info.family, info.major, info.os, info.is_browser) == ("Firefox", "120", "Linux", True)
    assert asked == [(firefox, Domain.USER_AGENT), (firefox, Domain.OS)]  # the OS for the answer
    # A Mozilla-form agent with no engine is judged on ua-parser's family: asked, then flagged,
    # without its OS (nothing reads a bot's).
    asked.clear()
    reason = classifier.classify("Mozilla/5.0 (X11; 1) Foo").bot_reason
    assert "no browser ua-parser knows" in reason
    assert asked == [("Mozilla/5.0 (X11; 1) Foo", Domain.USER_AGENT)]


def test_ua_parsers_own_bot_names_are_read_without_a_bot_word_in_the_text() -> None:
    """uap-core names some bots with words their agents do not hold ("OpenVAS/9.0" is "OpenVAS
    Scanner"): the family is read for those, whatever the text holds (the catalogue knows
    OpenVAS; the rules alone must catch it too)."""
    tool = "OpenVAS/9.0"
    parsed = ParsedAgent(tool, shared_resolver(), self_naming_resolver(uacues.BOT_WORD_HINTS))
    assert parsed.may_name_a_bot
    lowered = tool.lower()
    reason = uarules._bot_reason(lowered, parsed)
    assert reason == "ua-parser names it 'OpenVAS Scanner', with the bot-like word 'scanner'"
    plain = ParsedAgent("Foo/1.0", shared_resolver(), self_naming_resolver(uacues.BOT_WORD_HINTS))
    assert not plain.may_name_a_bot


@pytest.mark.parametrize("name", ["Kraken", "holmes", "WIRE", "YandexFoo"])
def test_a_crawler_name_does_not_make_a_browser_of_a_mozilla_agent(name: str) -> None:
    """uap-core's crawler-name rule gave any text naming one of its ~200 crawlers that name as
    the family, so `Mozilla/5.0 (X11; 1) Kraken` counted as a browser ua-parser knows. The
    shared resolver is built without it and the two rules for any name ending in a bot word;
    they stay in ua-parser's own builtins."""
    agent = f"Mozilla/5.0 (X11; 1) {name}"
    info = UAClassifier(load_catalogue(), cache_size=4).classify(agent)
    assert info.is_bot
    assert not info.is_browser
    assert "no browser ua-parser knows" in info.bot_reason
    builtins = ua_parser.load_builtins()
    assert sum(map(is_crawler_rule, builtins[0])) == 3  # each piece still finds its rule
    full = ua_regex.Resolver(builtins)(agent, Domain.USER_AGENT).user_agent
    assert full is not None
    assert full.family == name
    assert shared_resolver()(agent, Domain.USER_AGENT).user_agent is None


def test_a_phone_named_bot_gets_its_browsers_family() -> None:
    """uap-core's rule for any name ending in "bot" named this phone's browser "M bot"."""
    phone = (
        "Mozilla/5.0 (Linux; Android 7.0; M bot 60 Build/NRD90M) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/69.0.3497.100 Mobile Safari/537.36"
    )
    info = UAClassifier(load_catalogue(), cache_size=4).classify(phone)
    assert (info.family, info.major, info.is_browser) == ("Chrome Mobile", "69", True)
