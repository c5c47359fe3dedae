"""Whatever a client sends, the fingerprint detectors return signals and never raise."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from scrapeshield.defences import RequestContext
from scrapeshield.facts import FactsBuilder
from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.headers import check
from scrapeshield.fingerprint.uaclass import CACHED_AGENT_CHARS, UAClassifier
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
