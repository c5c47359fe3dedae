"""The header-consistency detector answers once per distinct input (fingerprint/memo.py): its key
holds every input `check` reads, a repeat gets the answer `check` gives, and a flood of distinct
header sets is held within the memo's bounds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import msgspec
import pytest

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.header_order import OrderJudge
from scrapeshield.fingerprint.headers import HeaderConsistencyDetector, check, inputs
from scrapeshield.fingerprint.memo import Memo
from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store import MemoryStore
from tests.browsers import CHROME_UA, FIREFOX_UA, chrome, chrome_image, firefox

SAFARI_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
CLASSIFIER = UAClassifier(load_catalogue())
SHIELD = Shield(Settings(), store=MemoryStore())
Headers = dict[str, str]


def facts_of(
    headers: Headers,
    *,
    path: str = "/",
    scheme: str = "https",
    method: str = "GET",
    http_version: str = "1.1",
) -> Facts:
    scope = synthetic_scope(method=method, path=path, scheme=scheme, headers=list(headers.items()))
    scope["http_version"] = http_version
    return SHIELD.facts(scope)


def without(headers: Headers, *names: str) -> Headers:
    return {k: v for k, v in headers.items() if k not in names}


SEC_FETCH = ("Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest")
SAFARI = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-Mode": "navigate",
    "User-Agent": SAFARI_UA,
    "Accept-Language": "en-GB,en;q=0.9",
    "Sec-Fetch-Dest": "document",
    "Accept-Encoding": "gzip, deflate, br",
}
REQUESTS: dict[str, Facts] = {
    "chrome page": facts_of(chrome()),
    "chrome image": facts_of(chrome_image("https://localhost/"), path="/images/a.png"),
    "chrome opens an original": facts_of(chrome(), path="/images/a.png"),
    "chrome, bad hints, no sec-fetch": facts_of(
        without(chrome(**{"Sec-CH-UA": '"Chromium";v="99"'}), *SEC_FETCH)
    ),
    "chrome over http, http/1.0": facts_of(chrome(), scheme="http", http_version="1.0"),
    "firefox with hints": facts_of(firefox(**{"Sec-CH-UA": '"Chromium";v="128"'})),
    "firefox without sec-fetch": facts_of(without(firefox(), *SEC_FETCH)),
    "safari page": facts_of(SAFARI),
    "safari image, no sec-fetch": facts_of(
        {**without(SAFARI, *SEC_FETCH), "Accept": "image/webp,*/*"}, path="/images/a.png"
    ),
    "chrome ua, a library's fields": facts_of(
        {"User-Agent": CHROME_UA, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"}
    ),
    "chrome, POST fetch": facts_of(
        chrome(**{"Sec-Fetch-Mode": "cors", "Accept": "*/*"}), method="POST"
    ),
}


class _RecordedHeaders(dict[str, str]):
    """The request's fields, noting which values are read (membership and order are in the
    key as the tuple of names)."""

    values_read: set[str]

    def get(self, key: str, default: Any = None) -> Any:
        self.values_read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.values_read.add(key)
        return super().__getitem__(key)


class _RecordedFacts:
    def __init__(self, facts: Facts) -> None:
        self.headers = _RecordedHeaders(facts.headers)
        self.headers.values_read = set()
        self._facts = facts
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._facts, name)


def _key_inputs() -> tuple[set[str], set[str]]:
    """The facts and field values `inputs` puts in the key, found by changing each one."""
    base = REQUESTS["chrome page"]
    key = inputs(base)
    attrs = {
        name
        for name, other in [
            ("user_agent", FIREFOX_UA),
            ("method", "PUT"),
            ("route_group", "other"),
            ("http_version", "2"),
            ("secure_context", False),
        ]
        if inputs(msgspec.structs.replace(base, **{name: other})) != key
    }
    fields = set()
    for name in {"accept", "sec-fetch-mode", "sec-fetch-dest", "sec-ch-ua", "referer", "cookie"}:
        changed = msgspec.structs.replace(base, headers={**base.headers, name: "changed"})
        if inputs(changed) != key and tuple(changed.headers) == tuple(base.headers):
            fields.add(name)
    return attrs, fields


def test_the_key_holds_every_input_check_reads() -> None:
    attrs, fields = _key_inputs()
    assert fields == {"accept", "sec-fetch-mode", "sec-fetch-dest", "sec-ch-ua"}
    for label, facts in REQUESTS.items():
        recorded = _RecordedFacts(facts)
        info = CLASSIFIER.classify(facts.user_agent)
        assert info.is_browser, label
        check(cast(Facts, recorded), info, OrderJudge())
        assert recorded.read <= attrs, (label, recorded.read - attrs)
        assert recorded.headers.values_read <= fields, label


def test_the_names_and_their_order_are_in_the_key() -> None:
    base = REQUESTS["chrome page"]
    names = list(base.headers)
    swapped = dict(reversed(list(base.headers.items())))
    dropped = {k: v for k, v in base.headers.items() if k != names[-1]}
    for headers in (swapped, dropped):
        assert inputs(msgspec.structs.replace(base, headers=headers)) != inputs(base)


def _answers(detector: HeaderConsistencyDetector, facts: Facts) -> tuple[Any, ...]:
    return tuple(detector.detect_now(facts, RequestContext(MemoryStore())))


def _rebuilt(facts: Facts) -> Facts:
    """The same request again, with fresh strings (as the next request brings them)."""
    copy = {k.encode("latin-1").decode("latin-1"): v + "" for k, v in facts.headers.items()}
    return msgspec.structs.replace(facts, headers=copy)


def test_every_answer_is_checks_whatever_was_answered_before() -> None:
    detector = HeaderConsistencyDetector(CLASSIFIER)
    judge = OrderJudge()
    expected = {
        label: tuple(check(f, CLASSIFIER.classify(f.user_agent), judge))
        for label, f in REQUESTS.items()
    }
    assert len(set(expected.values())) >= 8  # the requests differ in what check says
    for _ in range(2):  # first computed, then answered from the memo
        for label, facts in REQUESTS.items():
            assert _answers(detector, _rebuilt(facts)) == expected[label], label
    assert len(detector._answers) == len(REQUESTS)


@pytest.mark.parametrize(
    ("label", "changed"),
    [
        ("accept", lambda: facts_of(chrome(Accept="*/*"))),
        ("sec-ch-ua", lambda: facts_of(chrome(**{"Sec-CH-UA": '"Chromium";v="120"'}))),
        ("order", lambda: facts_of(dict(reversed(list(chrome().items()))))),
        ("http version", lambda: facts_of(chrome(), http_version="1.0")),
        ("route group", lambda: facts_of(chrome(), path="/images/a.png")),
        ("user agent", lambda: facts_of(chrome(**{"User-Agent": CHROME_UA.replace("131", "120")}))),
    ],
)
def test_one_input_changed_after_a_repeat_is_judged_anew(label: str, changed: Any) -> None:
    detector = HeaderConsistencyDetector(CLASSIFIER)
    base, other = REQUESTS["chrome page"], changed()
    assert _answers(detector, base) == _answers(detector, _rebuilt(base)) == ()
    found = _answers(detector, other)
    assert found, label  # every change here makes check raise a signal
    assert found == tuple(check(other, CLASSIFIER.classify(other.user_agent), OrderJudge()))
    assert _answers(detector, _rebuilt(base)) == ()


def _flood(count: int, size: int) -> Iterator[Facts]:
    for i in range(count):
        yield facts_of(chrome(Accept=f"{i:08x}" + "a" * size))


def test_a_flood_of_distinct_header_sets_is_held_within_bounds() -> None:
    detector = HeaderConsistencyDetector(CLASSIFIER)
    memo = detector._answers
    for facts in _flood(memo.entries + 500, 8):
        _answers(detector, facts)
    assert 0 < len(memo) <= memo.entries
    for facts in _flood(3000, 1900):  # ~2,000 characters a key: the characters bound the memo
        _answers(detector, facts)
        assert memo.held <= memo.chars
    assert 0 < len(memo) < 2100


def test_values_too_long_to_be_worth_hashing_are_judged_each_time() -> None:
    detector = HeaderConsistencyDetector(CLASSIFIER)
    judge = OrderJudge()
    flagged = []
    for accept in ("*/*" + " " * 4096, "text/html" * 500):  # `Accept: */*` on a page, or not
        facts = facts_of(chrome(Accept=accept))
        assert inputs(facts) is None
        expected = tuple(check(facts, CLASSIFIER.classify(facts.user_agent), judge))
        assert _answers(detector, facts) == _answers(detector, facts) == expected
        flagged.append(bool(expected))
    assert flagged == [True, False]
    assert len(detector._answers) == 0


def test_the_memo_clears_when_full_and_never_holds_an_oversized_key() -> None:
    memo: Memo[int] = Memo(entries=3, chars=100)
    for i in range(3):
        memo.put(("k", i), i, 10)
    assert (len(memo), memo.held) == (3, 30)
    memo.put(("k", 3), 3, 10)  # a fourth entry: cleared first
    assert (len(memo), memo.get(("k", 3)), memo.get(("k", 0))) == (1, 3, None)
    memo.put(("big",), 4, 95)  # over the characters held: cleared first
    assert (len(memo), memo.held) == (1, 95)
    memo.put(("huge",), 5, 101)  # larger than the memo: not kept, nothing evicted
    assert (memo.get(("huge",)), memo.get(("big",))) == (None, 4)
