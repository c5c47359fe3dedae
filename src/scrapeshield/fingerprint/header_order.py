"""Header order: browsers and HTTP libraries each send their fields in a fixed order, and ASGI
servers keep it (`Facts.headers` is a dict in arrival order). Data: data/browser_headers.toml
and data/header_captures.toml, each naming its source.

Two judgements, cached per (family, tuple of names), so a repeated client costs one lookup:

  a library's order (`headers/library-order/<library>`): the names start like a library's
    defaults or are exactly them, whatever the User-Agent says;
  the family's order (`headers/order/<family>`): the names this family is known to send appear
    in an order no recorded request of the family used.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from scrapeshield.fingerprint.catalogue import DATA
from scrapeshield.fingerprint.memo import Memo

_ADDED = frozenset({"host", "content-length", "forwarded", "via", "cookie"})
"""Fields proxies add or move (and the cookie, whose place varies with the jar), with x-*, cf-*:
never part of an order. Libraries are matched on the rest, Connection included: a proxy that
drops the client's Connection makes a library unrecognisable, never a browser a library."""
_DROPPED = _ADDED | {"connection", "te", "keep-alive"}
"""And the hop-by-hop fields proxies remove or rewrite: browsers' orders are judged without."""


def core_names(names: Iterable[str], dropped: frozenset[str] = _DROPPED) -> tuple[str, ...]:
    """Field names (a request's headers, in arrival order) without the ones proxies touch."""
    return tuple(n for n in names if n not in dropped and not n.startswith(("x-", "cf-")))


@dataclass(frozen=True, slots=True)
class Library:
    name: str
    prefix: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    first: tuple[str, ...] = ()
    sorted_min: int = 0

    def matches(self, names: tuple[str, ...]) -> bool:
        if self.exact:
            return names == self.exact
        if self.prefix:
            return names[: len(self.prefix)] == self.prefix
        if self.first and names[: len(self.first)] == self.first:
            rest = list(names[len(self.first) :])
            if rest and rest[-1] == "accept-encoding":  # Go's transport adds it last
                rest.pop()
            return len(rest) >= self.sorted_min and rest == sorted(rest)
        return False


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    sec_fetch_since: tuple[int, int]
    client_hints_since: int
    judge_order: bool
    orders: tuple[Mapping[str, int], ...]  # name -> position, one map per recorded request
    known: frozenset[str]

    def order_consistent(self, names: tuple[str, ...]) -> bool:
        """True when the known names appear in the order of at least one of the recorded
        requests most like this one (holding the most of its names): a capture without
        Sec-Fetch-*, made over plain HTTP, says nothing about where a secure request puts
        them, so it cannot vouch for one that has them."""
        seen = [n for n in names if n in self.known]
        wanted = set(seen)
        shared = [len(wanted & p.keys()) for p in self.orders]
        most = max(shared, default=0)
        for positions, count in zip(self.orders, shared, strict=True):
            if count < most:
                continue
            last = -1
            for name in seen:
                at = positions.get(name)
                if at is None:
                    continue
                if at < last:
                    break
                last = at
            else:
                return True
        return False


@dataclass(frozen=True, slots=True)
class HeaderData:
    families: Mapping[str, Family]
    libraries: tuple[Library, ...]


def _version(value: Any) -> tuple[int, int]:
    major, _, minor = str(value).partition(".")
    return int(major), int(minor or 0)


@lru_cache(maxsize=1)
def load_header_data() -> HeaderData:
    """Both data files, parsed once per process."""
    spec = tomllib.loads(DATA.joinpath("browser_headers.toml").read_text("utf-8"))
    captures = tomllib.loads(DATA.joinpath("header_captures.toml").read_text("utf-8"))
    families: dict[str, Family] = {}
    for name, family in spec["families"].items():
        orders = family.get("orders", [])
        if orders == "header_captures.toml":
            orders = [capture["order"] for capture in captures[name]]
        kept = [[n for n in order if n not in _DROPPED] for order in orders]
        families[name] = Family(
            name,
            _version(family["sec_fetch_since"]),
            int(family.get("client_hints_since", 0)),
            bool(family.get("judge_order", False)),
            tuple({n: i for i, n in enumerate(order)} for order in kept),
            frozenset(n for order in kept for n in order),
        )
    libraries = tuple(
        Library(
            entry["name"],
            tuple(entry.get("prefix", ())),
            tuple(entry.get("exact", ())),
            tuple(entry.get("first", ())),
            int(entry.get("sorted_min", 0)),
        )
        for entry in spec["libraries"]
    )
    return HeaderData(families, libraries)


class OrderJudge:
    """`judge(family, headers)`: (library or "", family order consistent), cached per names."""

    def __init__(self, data: HeaderData | None = None) -> None:
        self.data = data or load_header_data()
        self._answers: Memo[tuple[str, bool]] = Memo()  # names come from clients: bounded

    def judge(self, family: str, headers: Mapping[str, str]) -> tuple[str, bool]:
        names = tuple(headers)
        key = (family, names)
        found = self._answers.get(key)
        if found is None:
            found = self._judge(family, names)
            self._answers.put(key, found, sum(map(len, names)))
        return found

    def _judge(self, family: str, names: tuple[str, ...]) -> tuple[str, bool]:
        library = _library(self.data, names)
        known = self.data.families.get(family)
        if library or known is None or not known.judge_order:
            return library, True
        return "", known.order_consistent(core_names(names))


def _library(data: HeaderData, names: Sequence[str]) -> str:
    kept = core_names(names, _ADDED)
    return next((lib.name for lib in data.libraries if lib.matches(kept)), "")


def library_of(names: Sequence[str]) -> str:
    """The library whose order these names follow ("" for none): for tests and `explain`."""
    return _library(load_header_data(), names)
