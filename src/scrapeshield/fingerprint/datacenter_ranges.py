"""Cloud and hosting providers' published address ranges: parsed, compacted, looked up.

Each provider publishes its own list in its own format (`data/datacenter/SOURCES.toml` names the
URL, the format and the subset taken). The package holds a compacted snapshot per provider
(adjacent and nested networks collapsed, one CIDR a line); `update-data` rebuilds the same files
from the providers' URLs into `fingerprint.data_dir`. iCloud Private Relay egress (Apple's
published list) is subtracted from every provider, since people browse through it.

Lookup is one binary search over sorted, non-overlapping integer intervals per IP version, each
labelled with its provider.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
import tomllib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from scrapeshield.fingerprint.ipranges import (
    Address,
    Interval,
    Network,
    by_version,
    cidr_intervals,
    merge,
    parse_ranges,
)

DATA = resources.files("scrapeshield.fingerprint.data")
FORMATS = ("aws", "google", "oracle", "azure", "csv")
# IANA special-purpose blocks (RFC 6890 and successors): no provider's customer can send from
# them, yet feeds carry some (Vultr's geofeed lists the documentation networks), and tests and
# private networks use them. Subtracted from every provider list.
SPECIAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
        "::/8", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
        "2002::/16", "3fff::/20", "fc00::/7", "fe80::/10", "ff00::/8",
    )
)  # fmt: skip


def manifest() -> dict[str, Any]:
    """data/datacenter/SOURCES.toml: providers (`[provider.<name>]`) and exclusions."""
    return tomllib.loads(DATA.joinpath("datacenter/SOURCES.toml").read_text("utf-8"))


def providers() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in manifest().get("provider", {}).items() if isinstance(v, dict)}


def _cidrs(values: Iterable[Any]) -> list[Network]:
    out: list[Network] = []
    for value in values:
        if isinstance(value, str) and value.strip():
            try:
                out.append(ipaddress.ip_network(value.strip(), strict=False))
            except ValueError:
                continue
    return out


def parse_provider(text: str, fmt: str, subset: Iterable[str] = ()) -> list[Network]:
    """The networks in one provider's published document. `subset`: the AWS services, Oracle
    tags or Azure service tags to keep (empty: all). Unparsable entries are skipped."""
    keep = set(subset)
    if fmt == "csv":  # RFC 8805 geofeeds (DigitalOcean, Linode, Vultr), plain lists, ours
        return _cidrs(line.split("#", 1)[0].split(",", 1)[0] for line in text.splitlines())
    data: Any = json.loads(text)  # every other format is JSON: a garbled one raises here
    if fmt == "google":
        return parse_ranges(text)
    if not isinstance(data, dict):
        return []
    if fmt == "aws":
        return _cidrs(
            p.get("ip_prefix") or p.get("ipv6_prefix")
            for key in ("prefixes", "ipv6_prefixes")
            for p in _dicts(data.get(key))
            if not keep or p.get("service") in keep
        )
    if fmt == "oracle":
        return _cidrs(
            c.get("cidr")
            for region in _dicts(data.get("regions"))
            for c in _dicts(region.get("cidrs"))
            if not keep or keep & set(c.get("tags") or ())
        )
    if fmt == "azure":
        return _cidrs(
            prefix
            for tag in _dicts(data.get("values"))
            if not keep or tag.get("name") in keep
            for prefix in (tag.get("properties") or {}).get("addressPrefixes") or ()
        )
    raise ValueError(f"unknown range format {fmt!r} (expected one of {FORMATS})")


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    return (v for v in value if isinstance(v, dict)) if isinstance(value, list) else iter(())


def subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """`intervals` minus `holes` (both merged)."""
    out: list[Interval] = []
    j = 0
    for start, end in intervals:
        while j < len(holes) and holes[j][1] < start:
            j += 1
        k, cur = j, start
        while k < len(holes) and holes[k][0] <= end:
            if holes[k][0] > cur:
                out.append((cur, holes[k][0] - 1))
            cur = max(cur, holes[k][1] + 1)
            k += 1
        if cur <= end:
            out.append((cur, end))
    return out


def csv_intervals(text: str) -> dict[int, list[Interval]]:
    """`by_version(parse_provider(text, "csv"))` without an `ipaddress` object a line
    (`cidr_intervals`): a worker loads ~7,300 CIDRs at start, ~0.1 s through `ipaddress` and
    ~10 ms so."""
    return cidr_intervals(
        line.split("#", 1)[0].split(",", 1)[0].strip() for line in text.splitlines()
    )


def compact(networks: Iterable[Network], exclude: Iterable[Network] = ()) -> list[str]:
    """The fewest CIDRs covering `networks` minus `exclude` and the special-purpose blocks,
    IPv4 first, in address order."""
    have, holes = by_version(networks), by_version([*exclude, *SPECIAL])
    lines: list[str] = []
    for version, cls in ((4, ipaddress.IPv4Address), (6, ipaddress.IPv6Address)):
        for start, end in subtract(have[version], holes[version]):
            lines.extend(str(n) for n in ipaddress.summarize_address_range(cls(start), cls(end)))
    return lines


class ProviderRanges:
    """Which provider's published ranges hold an address; a binary search per lookup.

    Overlaps between providers are clipped when built (the earlier-starting range keeps the
    shared addresses), so each table is sorted and disjoint and one bisect answers."""

    __slots__ = ("_labels", "_tables")

    def __init__(self, lists: dict[str, dict[int, list[Interval]]]) -> None:
        """From each label's merged intervals by IP version (`csv_intervals`, `by_version`)."""
        self._labels = sorted(lists)
        self._tables: dict[int, tuple[list[int], list[int], list[int]]] = {}
        for version in (4, 6):
            labelled = sorted(
                (start, end, i)
                for i, label in enumerate(self._labels)
                for start, end in lists[label][version]
            )
            starts: list[int] = []
            ends: list[int] = []
            owners: list[int] = []
            for start, end, owner in labelled:
                if ends and start <= ends[-1]:
                    start = ends[-1] + 1  # clipped: the previous range holds these
                if start > end:
                    continue
                starts.append(start)
                ends.append(end)
                owners.append(owner)
            self._tables[version] = (starts, ends, owners)

    def __len__(self) -> int:
        return sum(len(t[0]) for t in self._tables.values())

    def providers(self) -> list[str]:
        return list(self._labels)

    def lookup(self, address: Address) -> str | None:
        starts, ends, owners = self._tables[address.version]
        value = int(address)
        i = bisect.bisect_right(starts, value) - 1
        if i >= 0 and value <= ends[i]:
            return self._labels[owners[i]]
        return None


def read_extra(path: str) -> dict[str, list[Network]]:
    """An operator's own ranges file: one CIDR a line, optionally followed by a label
    (`203.0.113.0/24 my-hoster`); `#` comments. Raises ValueError naming a bad line."""
    lists: dict[str, list[Network]] = {}
    for number, raw in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cidr, _, label = line.replace(",", " ").partition(" ")
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ValueError(f"{path}:{number}: {cidr!r} is not an IP network") from None
        lists.setdefault(label.strip() or "the operator's list", []).append(network)
    return lists


@lru_cache(maxsize=4)
def load_provider_ranges(data_dir: str | None = None, extra: str | None = None) -> ProviderRanges:
    """Every provider in the manifest, from `data_dir/datacenter/` when refreshed there, else
    packaged; plus the operator's `extra` file (fingerprint.datacenter_ranges_file)."""
    lists: dict[str, dict[int, list[Interval]]] = {}
    for name, entry in providers().items():
        refreshed = Path(data_dir, "datacenter", f"{name}.txt") if data_dir else None
        if refreshed is not None and refreshed.is_file():
            text = refreshed.read_text("utf-8")
        else:
            text = DATA.joinpath(f"datacenter/{name}.txt").read_text("utf-8")
        lists[str(entry.get("label", name))] = csv_intervals(text)
    if extra:
        for label, networks in read_extra(extra).items():
            ours = by_version(networks)
            have = lists.get(label, {4: [], 6: []})
            lists[label] = {v: merge([*have[v], *ours[v]]) for v in (4, 6)}
    return ProviderRanges(lists)
