"""Crawler operators' published IP ranges: a packaged, dated snapshot, refreshable at run time.

Formats accepted (the operators' own): Google-style JSON (`prefixes[].ipv4Prefix/ipv6Prefix`,
also used by Bing, OpenAI, Apple, Perplexity...), `{"cidrs": [...]}`, a JSON list of CIDRs, or
plain text with one CIDR per line (`#` comments). Unparsable entries are skipped, never fatal.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
import socket
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

DATA = resources.files("scrapeshield.fingerprint.data")  # the packaged catalogue and ranges

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Interval = tuple[int, int]


def parse_ranges(text: str) -> list[Network]:
    """Every CIDR found in a published list, in any of the accepted formats."""
    return _networks(_cidr_values(text))


def range_intervals(text: str) -> dict[int, list[Interval]]:
    """`parse_ranges` as merged integer intervals by IP version (`cidr_intervals`): what a
    worker loads at start (~1,700 CIDRs)."""
    return cidr_intervals(v.strip() for v in _cidr_values(text) if isinstance(v, str))


def _cidr_values(text: str) -> list[Any]:
    """The CIDR entries of a published list (strings where well formed), in any format."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    if isinstance(data, dict):
        if isinstance(data.get("prefixes"), list):
            data = [
                p.get("ipv4Prefix") or p.get("ipv6Prefix")
                for p in data["prefixes"]
                if isinstance(p, dict)
            ]
        else:
            data = data.get("cidrs", [])
    return data if isinstance(data, list) else []


def _networks(values: Iterable[Any]) -> list[Network]:
    out: list[Network] = []
    for value in values:
        if not isinstance(value, str) or not value:
            continue
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            continue
    return out


_FAMILIES = {4: (socket.AF_INET, 32), 6: (socket.AF_INET6, 128)}


def cidr_interval(cidr: str) -> tuple[int, Interval]:
    """`(version, (first, last))` of one CIDR as `ipaddress.ip_network(cidr, strict=False)`
    reads it: a dotted quad or IPv6 text and a prefix length (`socket.inet_pton` parses the
    address in C); any other form (no prefix, a netmask, a scope) is left to `ipaddress`."""
    address, _, prefix = cidr.partition("/")
    version = 6 if ":" in address else 4
    family, bits = _FAMILIES[version]
    if prefix.isascii() and prefix.isdigit() and int(prefix) <= bits and "%" not in address:
        try:
            value = int.from_bytes(socket.inet_pton(family, address))
        except OSError:
            pass
        else:
            host = (1 << (bits - int(prefix))) - 1
            return version, (value & ~host, value | host)
    network = ipaddress.ip_network(cidr, strict=False)  # ValueError where it is none
    return network.version, (int(network.network_address), int(network.broadcast_address))


def cidr_intervals(cidrs: Iterable[str]) -> dict[int, list[Interval]]:
    """The CIDRs' merged intervals by IP version, without an `ipaddress` object a CIDR where
    `cidr_interval` reads it in C; an empty entry, or one that is no network, is skipped."""
    split: dict[int, list[Interval]] = {4: [], 6: []}
    for cidr in filter(None, cidrs):
        try:
            version, interval = cidr_interval(cidr)
        except ValueError:
            continue
        split[version].append(interval)
    return {v: merge(iv) for v, iv in split.items()}


def by_version(networks: Iterable[Network]) -> dict[int, list[Interval]]:
    """`networks` as merged integer intervals by IP version (what the range tables take)."""
    split: dict[int, list[Interval]] = {4: [], 6: []}
    for n in networks:
        split[n.version].append((int(n.network_address), int(n.broadcast_address)))
    return {v: merge(iv) for v, iv in split.items()}


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint, non-adjacent intervals covering the same addresses."""
    out: list[list[int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


class _Intervals:
    """Merged [start, end] integer intervals of one list and IP version; bisect lookup."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged = merge(intervals)
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def __contains__(self, value: int) -> bool:
        i = bisect.bisect_right(self.starts, value) - 1
        return i >= 0 and value <= self.ends[i]


class IPRanges:
    """Named range lists; `contains(name, ip)` is a binary search (Google's lists hold ~1,000)."""

    def __init__(self, lists: dict[str, dict[int, list[Interval]]]) -> None:
        """From each name's intervals by IP version (`range_intervals`, `by_version`)."""
        self._tables = {
            name: (_Intervals(intervals[4]), _Intervals(intervals[6]))
            for name, intervals in lists.items()
        }

    def names(self) -> list[str]:
        return sorted(self._tables)

    def contains(self, name: str, address: Address) -> bool:
        tables = self._tables.get(name)
        if tables is None:
            return False
        return int(address) in tables[0 if address.version == 4 else 1]


def manifest() -> dict[str, Any]:
    """SOURCES.toml: each list's refresh URL and provenance."""
    text = (
        resources.files("scrapeshield.fingerprint.data")
        .joinpath("ip-ranges/SOURCES.toml")
        .read_text()
    )
    return tomllib.loads(text)


@lru_cache(maxsize=4)
def load_ip_ranges(data_dir: str | None = None) -> IPRanges:
    """Every list in the manifest: from `data_dir/ip-ranges/` if refreshed there, else packaged."""
    packaged = DATA.joinpath("ip-ranges")
    lists: dict[str, dict[int, list[Interval]]] = {}
    for name, entry in manifest().items():
        if not isinstance(entry, dict):
            continue
        refreshed = Path(data_dir, "ip-ranges", f"{name}.json") if data_dir else None
        if refreshed is not None and refreshed.is_file():
            text = refreshed.read_text("utf-8")
        else:
            text = packaged.joinpath(f"{name}.json").read_text("utf-8")
        lists[name] = range_intervals(text)
    return IPRanges(lists)
