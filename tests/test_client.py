"""Client identity: forwarding headers only from trusted proxies, IPv6 grouping, bad input."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scrapeshield import ScrapeShield, Settings, blocklist
from scrapeshield.client import ClientResolver, forwarded_for, forwarded_proto, parse_ip
from scrapeshield.facts import FactsBuilder
from tests.browsers import chrome
from tests.servers import serve


def resolver(
    trusted: list[str] | None = None,
    header: str = "x-forwarded-for",
    ipv4_prefix: int = 32,
    ipv6_prefix: int = 64,
) -> ClientResolver:
    return ClientResolver(trusted or [], header, ipv4_prefix, ipv6_prefix)


# -- trust ------------------------------------------------------------------------------------


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    identity = resolver(["10.0.0.0/8"]).resolve("203.0.113.9", {"x-forwarded-for": "127.0.0.1"})
    assert identity.key == "203.0.113.9"
    assert identity.via_proxy is False


def test_no_trusted_proxies_means_headers_are_never_read() -> None:
    identity = resolver().resolve("127.0.0.1", {"x-forwarded-for": "198.51.100.7"})
    assert identity.key == "127.0.0.1"


def test_trusted_peer_hands_over_the_forwarded_client() -> None:
    identity = resolver(["10.0.0.0/8"]).resolve("10.0.0.2", {"x-forwarded-for": "198.51.100.7"})
    assert identity.key == "198.51.100.7"
    assert identity.via_proxy is True


def test_chain_is_walked_right_to_left_skipping_trusted_hops() -> None:
    headers = {"x-forwarded-for": "127.0.0.1, 198.51.100.7, 10.0.0.5, 10.0.0.6"}
    identity = resolver(["10.0.0.0/8"]).resolve("10.0.0.2", headers)
    # 127.0.0.1 is what the client itself claimed: left of the first untrusted hop, ignored.
    assert identity.key == "198.51.100.7"


def test_all_hops_trusted_gives_the_leftmost() -> None:
    headers = {"x-forwarded-for": "10.9.9.9, 10.0.0.5"}
    assert resolver(["10.0.0.0/8"]).resolve("10.0.0.2", headers).key == "10.9.9.9"


def test_malformed_hop_stops_the_walk_at_the_last_verified_address() -> None:
    headers = {"x-forwarded-for": "198.51.100.7, not-an-ip, 10.0.0.5"}
    assert resolver(["10.0.0.0/8"]).resolve("10.0.0.2", headers).key == "10.0.0.5"
    garbage = {"x-forwarded-for": "garbage"}
    assert resolver(["10.0.0.0/8"]).resolve("10.0.0.2", garbage).key == "10.0.0.2"


def test_only_the_configured_header_is_read() -> None:
    headers = {"forwarded": "for=198.51.100.1", "x-real-ip": "198.51.100.2"}
    identity = resolver(["10.0.0.0/8"]).resolve("10.0.0.2", headers)
    assert identity.key == "10.0.0.2"


def test_forwarded_rfc7239() -> None:
    trusted = resolver(["10.0.0.0/8"], header="forwarded")
    header = 'for=192.0.2.60;proto=https;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"'
    identity = trusted.resolve("10.0.0.2", {"forwarded": header})
    assert identity.ip == ipaddress.ip_address("2001:db8:cafe::17")
    assert identity.key == "2001:db8:cafe::/64"
    assert trusted.resolve("10.0.0.2", {"forwarded": "for=192.0.2.60:8080"}).key == "192.0.2.60"


def test_forwarded_unknown_and_obfuscated_identifiers_stop_the_walk() -> None:
    trusted = resolver(["10.0.0.0/8"], header="forwarded")
    for hop in ("unknown", "_hidden", '"_SEVKISEK"', ""):
        header = f"for=198.51.100.7, for={hop}, for=10.0.0.5"
        assert trusted.resolve("10.0.0.2", {"forwarded": header}).key == "10.0.0.5"


def test_forwarded_parsing_helpers() -> None:
    assert forwarded_for("for=1.2.3.4;proto=http, by=x, FOR=5.6.7.8") == ["1.2.3.4", "", "5.6.7.8"]
    assert forwarded_proto("for=1.2.3.4;proto=http, for=5.6.7.8;proto=HTTPS") == "https"
    assert forwarded_proto("for=1.2.3.4") is None


def test_x_real_ip() -> None:
    trusted = resolver(["10.0.0.0/8"], header="x-real-ip")
    assert trusted.resolve("10.0.0.2", {"x-real-ip": "198.51.100.7"}).key == "198.51.100.7"
    assert trusted.resolve("203.0.113.1", {"x-real-ip": "198.51.100.7"}).key == "203.0.113.1"


def test_scheme_from_trusted_proxy_only() -> None:
    headers = {"x-forwarded-for": "198.51.100.7", "x-forwarded-proto": "https"}
    assert resolver(["10.0.0.0/8"]).resolve("10.0.0.2", headers).scheme == "https"
    assert resolver(["10.0.0.0/8"]).resolve("203.0.113.1", headers).scheme is None
    odd = {"x-forwarded-for": "198.51.100.7", "x-forwarded-proto": "gopher"}
    assert resolver(["10.0.0.0/8"]).resolve("10.0.0.2", odd).scheme is None


# -- grouping ---------------------------------------------------------------------------------


def test_ipv6_grouped_by_64_by_default() -> None:
    a = resolver().resolve("2001:db8:1:2:aaaa::1", {})
    b = resolver().resolve("2001:db8:1:2:bbbb::2", {})
    c = resolver().resolve("2001:db8:1:3::1", {})
    assert a.key == b.key == "2001:db8:1:2::/64"
    assert c.key != a.key


@pytest.mark.parametrize(
    ("prefix", "key"),
    [(48, "2001:db8:1::/48"), (128, "2001:db8:1:2:aaaa::1"), (56, "2001:db8:1::/56")],
)
def test_ipv6_prefix_is_configurable(prefix: int, key: str) -> None:
    assert resolver(ipv6_prefix=prefix).resolve("2001:db8:1:2:aaaa::1", {}).key == key


def test_ipv6_prefix_setting_reaches_facts() -> None:
    builder = FactsBuilder(Settings(ipv6_prefix=48, ipv4_prefix=24))
    facts = builder.build({"type": "http", "client": ("2001:db8:1:2::9", 1), "headers": []})
    assert facts.client_key == "2001:db8:1::/48"
    facts = builder.build({"type": "http", "client": ("198.51.100.7", 1), "headers": []})
    assert facts.client_key == "198.51.100.0/24"


def test_ipv4_mapped_ipv6_is_treated_as_ipv4() -> None:
    assert parse_ip("::ffff:198.51.100.7") == ipaddress.ip_address("198.51.100.7")
    identity = resolver(["127.0.0.1/32"]).resolve(
        "::ffff:127.0.0.1", {"x-forwarded-for": "::ffff:198.51.100.7"}
    )
    assert identity.key == "198.51.100.7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        (" 198.51.100.7:443 ", "198.51.100.7"),
        ('"[2001:db8::1]:80"', "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("", None),
        ("[2001:db8::1", None),
        ("1.2.3", None),
        ("1.2.3.4:5:6", None),
        ("x" * 100, None),
    ],
)
def test_parse_ip(text: str, expected: str | None) -> None:
    parsed = parse_ip(text)
    assert (str(parsed) if parsed else None) == expected


def test_unparseable_peer_is_unknown() -> None:
    assert resolver().resolve("testclient", {}).key == "unknown"
    assert resolver().resolve(None, {}).key == "unknown"


# -- never raises -----------------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    [b"x-forwarded-for", b"forwarded", b"x-real-ip", b"x-forwarded-proto", b"user-agent", b"host"]
)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(st.tuples(HEADER_NAMES | st.binary(max_size=20), st.binary(max_size=200))),
    peer=st.sampled_from(["10.0.0.2", "::ffff:10.0.0.2", "203.0.113.9", "bogus"]),
    header=st.sampled_from(["x-forwarded-for", "forwarded", "x-real-ip"]),
)
def test_arbitrary_header_bytes_never_raise(
    headers: list[tuple[bytes, bytes]], peer: str, header: str
) -> None:
    builder = FactsBuilder(
        Settings(trusted_proxies=["10.0.0.0/8", "2001:db8::/32"], client_ip_header=header)
    )
    facts = builder.build({"type": "http", "client": (peer, 1), "headers": headers})
    assert facts.client_key
    if peer == "203.0.113.9":
        assert facts.client_key == "203.0.113.9"  # untrusted: headers never matter


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_parse_ip_and_forwarded_never_raise(text: str) -> None:
    parse_ip(text)
    forwarded_for(text)
    forwarded_proto(text)
    resolver(["0.0.0.0/0"], header="forwarded").resolve("10.0.0.1", {"forwarded": text})


# -- end to end -------------------------------------------------------------------------------


async def whoami(request: Request) -> Response:
    return JSONResponse({"client_key": request.state.scrapeshield.client_key})


def test_forwarding_headers_through_uvicorn() -> None:
    """uvicorn runs with proxy_headers off; scrapeshield alone decides whom to believe."""
    routes = [Route("/", whoami)]
    spoofed = {**chrome(), "x-forwarded-for": "198.51.100.7"}

    untrusting = Starlette(routes=routes)
    untrusting.add_middleware(
        ScrapeShield, settings=Settings(blocklist=[blocklist("evil", ips=["198.51.100.7"])])
    )
    with serve(untrusting) as server:
        response = httpx.get(server.url + "/", headers=spoofed)
    assert response.status_code == 200
    assert response.json() == {"client_key": "127.0.0.1"}

    trusting = Starlette(routes=routes)
    trusting.add_middleware(
        ScrapeShield,
        settings=Settings(
            trusted_proxies=["127.0.0.1/32"], blocklist=[blocklist("evil", ips=["198.51.100.7"])]
        ),
    )
    with serve(trusting) as server:
        blocked = httpx.get(server.url + "/", headers=spoofed)
        other = httpx.get(server.url + "/", headers={**spoofed, "x-forwarded-for": "192.0.2.1"})
    assert blocked.status_code == 403
    assert other.json() == {"client_key": "192.0.2.1"}
