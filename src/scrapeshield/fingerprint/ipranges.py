"""Crawler operators' published IP ranges: a packaged, dated snapshot, refreshable at run time.

Formats accepted (the operators' own): Google-style JSON (`prefixes[].ipv4Prefix/ipv6Prefix`,
also used by Bing, OpenAI, Apple, Perplexity...), `{"cidrs": [...]}`, a JSON list of CIDRs, or
plain text with one CIDR per line (`#` comments). Unparsable entries are skipped, never fatal.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

DATA = resources.files("scrapeshield.fingerprint.data")  # the packaged catalogue and ranges

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ranges(text: str) -> list[Network]:
    """Every CIDR found in a published list, in any of the accepted formats."""
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
    return _networks(data if isinstance(data, list) else [])


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


class _Intervals:
    """Merged [start, end] integer intervals of one list and IP version; bisect lookup."""

    __slots__ = ("ends", "starts")

    def __init__(self, networks: Iterable[Network]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted((int(n[0]), int(n[-1])) for n in networks):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def __contains__(self, value: int) -> bool:
        i = bisect.bisect_right(self.starts, value) - 1
        return i >= 0 and value <= self.ends[i]


class IPRanges:
    """Named range lists; `contains(name, ip)` is a binary search (Google's lists hold ~1,000)."""

    def __init__(self, lists: dict[str, list[Network]]) -> None:
        self._tables = {
            name: (
                _Intervals(n for n in nets if n.version == 4),
                _Intervals(n for n in nets if n.version == 6),
            )
            for name, nets in lists.items()
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
    lists: dict[str, list[Network]] = {}
    for name, entry in manifest().items():
        if not isinstance(entry, dict):
            continue
        refreshed = Path(data_dir, "ip-ranges", f"{name}.json") if data_dir else None
        if refreshed is not None and refreshed.is_file():
            text = refreshed.read_text("utf-8")
        else:
            text = packaged.joinpath(f"{name}.json").read_text("utf-8")
        lists[name] = parse_ranges(text)
    return IPRanges(lists)
