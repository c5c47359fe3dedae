"""FactsBuilder: repeated headers, route groups and their bounded cache."""

from __future__ import annotations

import re

from scrapeshield import Settings
from scrapeshield.client import _CACHE_SIZE
from scrapeshield.facts import FactsBuilder
from scrapeshield.shield import synthetic_scope


def test_repeated_headers_are_joined_cookies_with_semicolons() -> None:
    builder = FactsBuilder(Settings())
    scope = synthetic_scope(
        headers=[("Cookie", "a=1"), ("Accept", "text/html"), ("cookie", "b=2"), ("ACCEPT", "*/*")]
    )
    facts = builder.build(scope)
    assert facts.header("cookie") == "a=1; b=2"
    assert facts.cookie("b") == "2"
    assert facts.header("accept") == "text/html, */*"


def test_header_names_are_lowercased_without_repeats() -> None:
    facts = FactsBuilder(Settings()).build(synthetic_scope(headers=[("X-Thing", "1")]))
    assert facts.headers["x-thing"] == "1"


def test_route_group_cache_is_bounded_and_answers_like_the_matcher() -> None:
    builder = FactsBuilder(Settings())
    for n in range(10_000):
        path = f"/images/{n}.png" if n % 2 else f"/page/{n}"
        facts = builder.build(synthetic_scope(path=path))
        assert facts.route_group == ("images" if n % 2 else "default")
    assert len(builder._groups) <= 4096
    # A long path is answered, not cached.
    long_path = "/images/" + "x" * 1000 + ".png"
    assert builder.build(synthetic_scope(path=long_path)).route_group == "images"
    assert ("GET", long_path) not in builder._groups


def test_identities_are_cached_per_peer_and_the_cache_is_bounded() -> None:
    builder = FactsBuilder(Settings(ipv6_prefix=64))
    for n in range(1, _CACHE_SIZE + 10):
        facts = builder.build(synthetic_scope(ip=f"2001:db8:{n:x}::7"))
        assert facts.client_key == f"2001:db8:{n:x}::/64"
    assert builder.resolver._cached.cache_info().currsize == _CACHE_SIZE
    again = builder.build(synthetic_scope(ip="2001:db8:1::8"))
    assert again.client_key == "2001:db8:1::/64"
    assert str(again.client_ip) == "2001:db8:1::8"


def test_with_a_trusted_proxy_the_forwarded_client_is_used_not_a_cached_peer() -> None:
    builder = FactsBuilder(Settings(trusted_proxies=["10.0.0.0/8"]))
    for client in ("198.51.100.1", "198.51.100.2"):
        scope = synthetic_scope(ip="10.0.0.1", headers=[("x-forwarded-for", client)])
        assert builder.build(scope).client_key == client


def test_request_ids_are_16_hex_digits_and_new_each_request() -> None:
    builder = FactsBuilder(Settings())
    ids = {builder.build(synthetic_scope()).request_id for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    # Leading zeros are kept: over 2,000 ids, ~125 start with "0" (one in 16).
    assert any(i.startswith("0") for i in ids)


def test_client_network_is_ipaddress_network_made_once_and_bounded() -> None:
    import ipaddress
    import random

    from scrapeshield import facts as facts_module
    from scrapeshield.facts import _NETWORK_CACHE_SIZE, client_network

    rng = random.Random(19)
    for _ in range(2 * _NETWORK_CACHE_SIZE):
        v4 = ipaddress.IPv4Address(rng.getrandbits(32))
        v6 = ipaddress.IPv6Address(rng.getrandbits(128))
        for ip, bits in ((v4, 24), (v4, 16), (v6, 48), (v6, 64)):
            expected = str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))
            assert client_network(ip, bits, bits) == expected
            assert client_network(ip, bits, bits) == expected  # cached: the same answer
        assert client_network(v4, 24, 48).endswith("/24")
        assert client_network(v6, 24, 48).endswith("/48")
    assert len(facts_module._networks) <= _NETWORK_CACHE_SIZE
