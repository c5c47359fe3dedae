"""Bounded cost per request: what the shield reads of headers a client can make huge or many.

The cost itself is measured in benchmarks/bench_hostile_headers.py; these tests pin the rules
that bound it (what is read, what is skipped) and that the answers stay right.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapeshield import Settings
from scrapeshield.behaviour.works import ITEM_ID, ITEM_TAIL
from scrapeshield.client import MAX_HOPS, ClientResolver, forwarded_for
from scrapeshield.facts import MAX_COOKIE_HEADER, MAX_HEADERS, FactsBuilder, find_cookie
from scrapeshield.patterns import GlobSet, glob_to_regex
from scrapeshield.synthetic import synthetic_scope

# -- cookies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pass=abc", "abc"),
        ("a=1; pass=abc; b=2", "abc"),
        ("a=1;pass=abc;b=2", "abc"),
        ("xpass=no; pass=yes", "yes"),
        ("pass=first; pass=last", "last"),  # the last one, as the previous parser answered
        ("pass=abc; xpass=no", "abc"),
        ('pass="quoted"', "quoted"),
        ("pass=", ""),
        ("a=pass=no", None),
        ("xpass=no", None),
        ("", None),
        ("pass", None),
    ],
)
def test_find_cookie_reads_only_the_named_cookie(header: str, expected: str | None) -> None:
    assert find_cookie(header, "pass") == expected


def test_a_cookie_among_thousands_is_found_and_an_oversized_header_is_not_read() -> None:
    filler = "; ".join(f"c{i}=v" for i in range(3000))
    header = f"{filler}; pass=token"
    assert len(header) <= MAX_COOKIE_HEADER
    assert find_cookie(header, "pass") == "token"
    oversized = "x=" + "a" * MAX_COOKIE_HEADER + "; pass=token"
    assert find_cookie(oversized, "pass") is None  # served as a request without the cookie


def test_facts_cookie_over_repeated_cookie_lines() -> None:
    """HTTP/2 sends each cookie as a line of its own; they are joined, then searched."""
    scope = synthetic_scope(
        headers=[("cookie", f"c{i}=v") for i in range(50)] + [("cookie", "p=1")]
    )
    facts = FactsBuilder(Settings()).build(scope)
    assert facts.cookie("p") == "1"
    assert facts.cookie("c49") == "v"


# -- header lines -----------------------------------------------------------------------------


def test_past_max_headers_only_the_proxy_headers_at_the_end_are_read() -> None:
    builder = FactsBuilder(Settings(trusted_proxies=["10.0.0.1"]))
    flood = [(f"x-h{i}", "v") for i in range(5000)]
    scope = synthetic_scope(
        ip="10.0.0.1",
        headers=[("accept-language", "en"), *flood, ("x-forwarded-for", "198.51.100.4")],
    )
    facts = builder.build(scope)
    assert facts.client_key == "198.51.100.4"  # the proxy's header, after the flood, counts
    assert facts.header("accept-language") == "en"  # the first lines are read in full
    assert "x-h0" in facts.headers
    assert f"x-h{MAX_HEADERS}" not in facts.headers  # the middle is never read
    assert "x-h4999" not in facts.headers  # nor other headers at the end


def test_a_flood_of_forwarding_lines_keeps_the_proxy_s_own() -> None:
    builder = FactsBuilder(Settings(trusted_proxies=["10.0.0.1"]))
    forged = [("x-forwarded-for", "192.0.2.66")] * 5000
    scope = synthetic_scope(ip="10.0.0.1", headers=[*forged, ("x-forwarded-for", "198.51.100.4")])
    assert builder.build(scope).client_key == "198.51.100.4"


def test_few_header_lines_are_all_read() -> None:
    headers = [(f"x-h{i}", str(i)) for i in range(MAX_HEADERS - 5)]
    facts = FactsBuilder(Settings()).build(synthetic_scope(headers=headers))
    assert all(facts.headers[f"x-h{i}"] == str(i) for i in range(MAX_HEADERS - 5))


# -- forwarding chains ------------------------------------------------------------------------


def test_only_the_last_max_hops_of_a_chain_are_walked() -> None:
    resolver = ClientResolver(["10.0.0.0/8"], "x-forwarded-for", 32, 64)
    chain = ", ".join(["192.0.2.1"] + ["10.0.0.9"] * (MAX_HOPS + 5) + ["10.0.0.8"])
    identity = resolver.resolve("10.0.0.1", {"x-forwarded-for": chain})
    # All walked hops are our proxies: the walk stops at the last one it read, never reaching
    # the address on the far left (what lies past MAX_HOPS is never parsed).
    assert identity.key == "10.0.0.9"
    short = ", ".join(["192.0.2.1"] + ["10.0.0.9"] * (MAX_HOPS - 2))
    assert resolver.resolve("10.0.0.1", {"x-forwarded-for": short}).key == "192.0.2.1"


def test_forwarded_for_reads_only_the_last_elements() -> None:
    header = "for=192.0.2.1, for=192.0.2.2;proto=https, for=192.0.2.3"
    assert forwarded_for(header, 2) == ["192.0.2.2", "192.0.2.3"]
    assert forwarded_for(header, 10) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    assert forwarded_for(header) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]


# -- paths ------------------------------------------------------------------------------------

GLOB_CHARS = st.sampled_from(list("ab/.*?-"))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.text(GLOB_CHARS, max_size=6), min_size=1, max_size=4),
    st.text(st.sampled_from(list("ab/.-\n")), max_size=12),
)
def test_globset_answers_as_one_regex_does(patterns: list[str], value: str) -> None:
    """The set/prefix/suffix shortcuts change the cost, never the answer."""
    regex = re.compile("(?:" + "|".join(f"(?:{glob_to_regex(p)})" for p in patterns) + ")\\Z", re.S)
    assert GlobSet(patterns).matches(value) == (regex.match(value) is not None)


def test_globset_shapes() -> None:
    globs = GlobSet(["/robots.txt", "/images/*", "*.png", "/a/*/b", "/x?"])
    assert globs.matches("/robots.txt")
    assert globs.matches("/images/" + "a/" * 30_000)
    assert globs.matches("/" + "a/" * 30_000 + "cat.png")
    assert globs.matches("/a/zz/b")
    assert globs.matches("/x1")
    assert not globs.matches("/" + "a/" * 30_000)
    assert GlobSet(["*"]).matches("")
    assert not GlobSet([])


@pytest.mark.parametrize(
    ("path", "item"),
    [
        ("/artworks/123", "123"),
        ("/artworks/123/", "123"),
        ("/images/123456789012.webp", "123456789012"),
        ("/" + "a/" * 20_000 + "77", "77"),
        ("/" + "a/" * 20_000, None),
        ("/artworks/1234567890123", None),
    ],
)
def test_the_item_id_is_read_from_the_path_s_tail(path: str, item: str | None) -> None:
    match = ITEM_ID.search(path, max(0, len(path) - ITEM_TAIL))
    assert (match.group(1) if match else None) == item
    whole = ITEM_ID.search(path)
    assert (whole.group(1) if whole else None) == item  # the same answer as a full search
