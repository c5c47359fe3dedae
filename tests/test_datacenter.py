"""Cloud providers' ranges: parsing each provider's format, compaction, the lookup's edges on
IPv4 and IPv6, the packaged snapshot, the operator's file, and the detector's verdicts."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from scrapeshield import Action, ConfigurationError, Settings, Shield
from scrapeshield.detector import RequestContext
from scrapeshield.fingerprint.data_update import update_data
from scrapeshield.fingerprint.datacenter import DatacenterDetector
from scrapeshield.fingerprint.datacenter_ranges import (
    DATA,
    FORMATS,
    SPECIAL,
    ProviderRanges,
    compact,
    csv_intervals,
    load_provider_ranges,
    manifest,
    parse_provider,
    providers,
)
from scrapeshield.fingerprint.ipranges import by_version
from scrapeshield.policy import Policy
from scrapeshield.ratelimit.settings import VERIFIED_BOT_NOTE
from scrapeshield.settings import PolicySettings
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import CHALLENGE_PASSED, Signal
from scrapeshield.store import MemoryStore
from tests.browsers import chrome

ip = ipaddress.ip_address
net = ipaddress.ip_network


def nets(*cidrs: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [net(c) for c in cidrs]


# --- each provider's own format -------------------------------------------------------------


def test_aws_keeps_the_chosen_services_on_both_versions() -> None:
    doc = {
        "prefixes": [
            {"ip_prefix": "3.5.140.0/22", "service": "EC2"},
            {"ip_prefix": "13.32.0.0/15", "service": "CLOUDFRONT"},
            {"ip_prefix": "bogus", "service": "EC2"},
        ],
        "ipv6_prefixes": [{"ipv6_prefix": "2600:1f14::/35", "service": "EC2"}],
    }
    got = parse_provider(json.dumps(doc), "aws", ["EC2"])
    assert got == nets("3.5.140.0/22", "2600:1f14::/35")
    assert len(parse_provider(json.dumps(doc), "aws")) == 3  # no subset: every service


def test_google_oracle_azure_and_geofeeds() -> None:
    google = {"prefixes": [{"ipv4Prefix": "34.1.208.0/20"}, {"ipv6Prefix": "2600:1900::/35"}]}
    assert parse_provider(json.dumps(google), "google") == nets("34.1.208.0/20", "2600:1900::/35")
    oracle = {
        "regions": [
            {"cidrs": [{"cidr": "40.233.0.0/19", "tags": ["OCI"]}, {"cidr": "1.2.3.0/24"}]},
            {"cidrs": [{"cidr": "134.70.8.0/21", "tags": ["OSN"]}]},
        ]
    }
    assert parse_provider(json.dumps(oracle), "oracle", ["OCI"]) == nets("40.233.0.0/19")
    azure = {
        "values": [
            {"name": "AzureCloud", "properties": {"addressPrefixes": ["4.145.0.0/16"]}},
            {"name": "AzureFrontDoor", "properties": {"addressPrefixes": ["13.73.248.0/24"]}},
        ]
    }
    assert parse_provider(json.dumps(azure), "azure", ["AzureCloud"]) == nets("4.145.0.0/16")
    geofeed = "# Linode\n2600:3c00::/32,US,US-TX,Richardson,\n23.92.16.0/24,US,US-NJ,,\nno,\n"
    assert parse_provider(geofeed, "csv") == nets("2600:3c00::/32", "23.92.16.0/24")


def test_malformed_documents() -> None:
    with pytest.raises(ValueError, match="Expecting value"):  # json's own error
        parse_provider("<html>maintenance</html>", "aws")
    assert parse_provider("[1, 2]", "oracle") == []
    assert parse_provider('{"regions": "x"}', "oracle") == []
    with pytest.raises(ValueError, match="unknown range format"):
        parse_provider("{}", "yaml")


# --- compaction -----------------------------------------------------------------------------


def test_compact_collapses_adjacent_and_nested_networks() -> None:
    got = compact(nets("5.0.0.128/25", "5.0.0.0/25", "5.0.0.7/32", "5.0.1.0/24", "2a01:1::/33"))
    assert got == ["5.0.0.0/23", "2a01:1::/33"]
    assert compact(nets("2a01:1::/33", "2a01:1:8000::/33")) == ["2a01:1::/32"]


def test_compact_subtracts_exclusions_and_special_purpose_blocks() -> None:
    assert compact(nets("5.0.0.0/24"), exclude=nets("5.0.0.128/25")) == ["5.0.0.0/25"]
    assert compact(nets("198.51.100.0/24", "2001:db8::/32", "10.0.0.0/8")) == []
    around = compact(nets("198.51.0.0/16"))  # a feed's block that holds a documentation /24
    covered = [net(c) for c in around]
    assert not any(n.overlaps(net("198.51.100.0/24")) for n in covered)
    assert sum(n.num_addresses for n in covered) == 65536 - 256


# --- lookup ---------------------------------------------------------------------------------


def test_lookup_edges_on_ipv4_and_ipv6() -> None:
    table = ProviderRanges(
        {
            "A": by_version(nets("5.0.0.0/24", "2a01:1::/32")),
            "B": by_version(nets("5.0.1.0/24")),  # adjacent to A's: stays B's
        }
    )
    assert table.lookup(ip("4.255.255.255")) is None
    assert table.lookup(ip("5.0.0.0")) == "A"
    assert table.lookup(ip("5.0.0.255")) == "A"
    assert table.lookup(ip("5.0.1.0")) == "B"
    assert table.lookup(ip("5.0.1.255")) == "B"
    assert table.lookup(ip("5.0.2.0")) is None
    assert table.lookup(ip("2a01:0:ffff:ffff:ffff:ffff:ffff:ffff")) is None
    assert table.lookup(ip("2a01:1::")) == "A"
    assert table.lookup(ip("2a01:1:ffff:ffff:ffff:ffff:ffff:ffff")) == "A"
    assert table.lookup(ip("2a01:2::")) is None
    assert table.lookup(ip("::5.0.0.1")) is None  # versions never mix


def test_overlapping_providers_keep_every_address_covered() -> None:
    inner = nets("5.0.3.0/24", "5.0.255.0/24")
    table = ProviderRanges({"big": by_version(nets("5.0.0.0/16")), "inner": by_version(inner)})
    assert table.lookup(ip("5.0.3.9")) == "big"  # the earlier-starting range keeps it
    assert table.lookup(ip("5.0.255.255")) == "big"
    b = nets("5.0.0.128/25", "5.0.1.0/25")
    tail = ProviderRanges({"a": by_version(nets("5.0.0.0/24")), "b": by_version(b)})
    assert tail.lookup(ip("5.0.0.200")) == "a"
    assert tail.lookup(ip("5.0.1.100")) == "b"  # past the overlap, b's own again
    assert len(tail) == 2


# --- the packaged snapshot ------------------------------------------------------------------


def test_every_provider_is_documented_and_packaged_compact() -> None:
    entries = providers()
    assert set(entries) >= {"aws", "gcp", "azure", "oracle", "digitalocean", "linode", "vultr"}
    assert manifest()["snapshot_date"]
    for name, entry in entries.items():
        assert entry["format"] in FORMATS, name
        assert all(entry.get(key) for key in ("label", "source", "terms", "date")), name
        lines = DATA.joinpath(f"datacenter/{name}.txt").read_text("utf-8").split()
        assert lines, name
        assert compact(net(line) for line in lines) == lines, f"{name}.txt is not compact"


def test_a_worker_loads_the_files_as_ipaddress_reads_them() -> None:
    """`csv_intervals` (a worker's start, without an `ipaddress` object a line) gives what
    `parse_provider` gives on every packaged file, and on forms only `ipaddress` reads (no
    prefix, a netmask, a scope) or neither does."""
    odd = (
        "# a comment\n5.6.7.8/24, CC, region\n1.2.3.4\n10.0.0.0/255.0.0.0\n::ffff:1.2.3.4/120\n"
        "fe80::1%eth0/64\n01.2.3.4/8\n1.2.3.4/33\n1.2.3.4/+8\n2001:db8:::/32\nnot-a-network\n"
    )
    texts = [DATA.joinpath(f"datacenter/{name}.txt").read_text("utf-8") for name in providers()]
    for text in [*texts, odd]:
        assert csv_intervals(text) == by_version(parse_provider(text, "csv"))
    assert sum(map(len, csv_intervals(odd).values())) == 5


def test_the_snapshot_holds_no_special_purpose_network() -> None:
    table = load_provider_ranges()
    for block in SPECIAL:
        assert table.lookup(block[0]) is None, block
        assert table.lookup(block[-1]) is None, block


@pytest.mark.parametrize(
    ("address", "provider"),
    [
        ("3.5.140.7", "Amazon Web Services (EC2)"),
        ("34.1.208.1", "Google Cloud"),
        ("40.233.0.1", "Oracle Cloud Infrastructure"),
        ("4.145.74.53", "Microsoft Azure"),
        ("104.131.0.1", "DigitalOcean"),
        ("2600:3c00::1", "Akamai Cloud (Linode)"),
        ("45.32.0.1", "Vultr"),
    ],
)
def test_the_snapshot_knows_each_provider(address: str, provider: str) -> None:
    assert load_provider_ranges().lookup(ip(address)) == provider


@pytest.mark.parametrize(
    "address",
    [
        "104.28.86.136",  # iCloud Private Relay egress on Cloudflare (Apple's egress-ip-ranges)
        "172.226.81.184",  # ... on Akamai's CDN
        "172.224.226.1",
        "2a02:26f7:f6c4:a400::1",
        "104.16.0.1",  # Cloudflare's CDN edge: not a provider we count
        "151.101.1.1",  # Fastly
        "192.0.2.1",
        "127.0.0.1",
        "::1",
    ],
)
def test_private_relay_cdns_and_special_addresses_are_not_datacenters(address: str) -> None:
    assert load_provider_ranges().lookup(ip(address)) is None


# --- the operator's own file, refreshed data, and the detector ------------------------------


def test_the_operators_file_adds_labelled_ranges(tmp_path: Path) -> None:
    extra = tmp_path / "mine.txt"
    extra.write_text("# my hosters\n203.0.113.0/24 hoster-x\n2001:db8::/48\n")
    table = load_provider_ranges(None, str(extra))
    assert table.lookup(ip("203.0.113.5")) == "hoster-x"
    assert table.lookup(ip("2001:db8::1")) == "the operator's list"
    assert table.lookup(ip("3.5.140.7")) == "Amazon Web Services (EC2)"  # packaged ones kept


@pytest.mark.parametrize("content", ["5.0.0.0/24\nnot-a-network here\n", None])
def test_a_bad_operators_file_names_the_setting(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "bad.txt"
    if content is not None:
        path.write_text(content)
    settings = Settings(fingerprint={"datacenter_ranges_file": str(path)})
    with pytest.raises(ConfigurationError, match=r"fingerprint\.datacenter_ranges_file") as err:
        Shield(settings)
    if content is not None:
        assert "bad.txt:2" in str(err.value)


def test_refreshed_files_replace_the_packaged_ones(tmp_path: Path) -> None:
    def fetch(url: str) -> str:
        if url.endswith("private-relay.csv"):
            return "5.9.0.0/24,US,US-CA,,\n"
        if url.endswith("aws.json"):
            doc = {"prefixes": [{"ip_prefix": "5.9.0.0/16", "service": "EC2"}]}
            return json.dumps(doc)
        raise OSError("not served")

    report = update_data(tmp_path, mirror="http://mirror.invalid", fetch=fetch)
    assert "datacenter/aws.txt" in report.written
    table = load_provider_ranges(str(tmp_path))
    assert table.lookup(ip("5.9.1.1")) == "Amazon Web Services (EC2)"
    assert table.lookup(ip("5.9.0.1")) is None  # Private Relay egress subtracted
    assert table.lookup(ip("3.5.140.7")) is None  # the refreshed list replaced the snapshot
    assert table.lookup(ip("34.1.208.1")) == "Google Cloud"  # failed refresh: packaged kept


def ctx(**notes: str) -> RequestContext:
    return RequestContext(store=MemoryStore(), notes=dict(notes))


def test_the_detector_names_the_provider_and_skips_verified_crawlers() -> None:
    hoster = by_version(nets("5.0.0.0/24", "2a01:1::/32"))
    detector = DatacenterDetector(ProviderRanges({"Hoster": hoster}))
    shield = Shield(Settings())
    for address in ("5.0.0.9", "2a01:1::9"):
        facts = shield.facts(synthetic_scope(ip=address))
        [signal] = detector.detect_now(facts, ctx())
        assert (signal.name, signal.weight) == ("network/datacenter", 15.0)
        assert signal.detail == f"{address} is in Hoster's published ranges"
        assert detector.detect_now(facts, ctx(**{VERIFIED_BOT_NOTE: "Googlebot"})) == ()
    assert detector.detect_now(shield.facts(synthetic_scope(ip="5.0.1.9")), ctx()) == ()


async def test_alone_it_never_refuses_a_browser_and_a_pass_answers_it() -> None:
    shield = Shield(Settings())
    scope = synthetic_scope(ip="3.5.140.7", headers=list(chrome().items()))
    made = await shield.decide(shield.facts(scope))
    assert made.action == Action.ALLOW
    assert [r.name for r in made.reasons] == ["network/datacenter"]
    policy = Policy(PolicySettings())
    with_doubt = [Signal("network/datacenter", 15.0), Signal("headers/chromium-no-sec-fetch", 25.0)]
    assert policy.evaluate(with_doubt).action is Action.CHALLENGE
    held = policy.evaluate([*with_doubt, Signal(CHALLENGE_PASSED, 0.0)])
    assert held.action is Action.ALLOW  # both answered: a person who solved it goes on


async def test_operators_turn_it_off_or_reweigh_it() -> None:
    scope = synthetic_scope(ip="3.5.140.7", headers=list(chrome().items()))
    off = Shield(Settings(fingerprint={"datacenter": False}))
    assert (await off.decide(off.facts(scope))).reasons == ()
    heavy = Shield(Settings(policy={"weights": {"network/datacenter": 45.0}}))
    made = await heavy.decide(heavy.facts(scope))
    assert (made.action, made.score) == (Action.CHALLENGE, 45.0)
