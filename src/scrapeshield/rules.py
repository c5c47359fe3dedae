"""Operator rules in the Rack::Attack spirit: `safelist` and `blocklist`, named, first match wins.

    Settings(
        safelist=[safelist("office", ips=["203.0.113.0/24"])],
        blocklist=[blocklist("no-wget", user_agents=["Wget/*"]),
                   blocklist("bad-referrer", when=lambda facts: "spam" in facts.header("referer"))],
    )

The same rules written in TOML (`[[safelist]] name = "office"  ips = [...]`) compile to the same
objects. Phase order is fixed: safelist, then blocklist, so an allow-list always wins.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Sequence
from typing import Any

from scrapeshield.client import IPNetwork
from scrapeshield.facts import Facts
from scrapeshield.patterns import GlobSet
from scrapeshield.settings import RuleSpec

logger = logging.getLogger("scrapeshield")


def safelist(name: str, **conditions: Any) -> RuleSpec:
    """A rule whose match lets the request through before any detector runs."""
    return RuleSpec(name=name, **conditions)


def blocklist(name: str, **conditions: Any) -> RuleSpec:
    """A rule whose match blocks the request (logged as `blocklist/<name>`)."""
    return RuleSpec(name=name, **conditions)


class CompiledRule:
    """A `RuleSpec` with its globs and networks compiled; `matches` is all-conditions-hold."""

    __slots__ = ("_headers", "_methods", "_networks", "_paths", "_user_agents", "_when", "name")

    def __init__(self, spec: RuleSpec) -> None:
        self.name = spec.name
        self._networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(cidr, strict=False) for cidr in spec.ips
        )
        self._paths = GlobSet(spec.paths)
        self._methods = frozenset(spec.methods)
        self._user_agents = GlobSet(spec.user_agents, ignore_case=True)
        self._headers = tuple(
            (name.lower(), GlobSet([pattern], ignore_case=True))
            for name, pattern in spec.headers.items()
        )
        self._when: Callable[[Facts], bool] | None = spec.when

    def matches(self, facts: Facts) -> bool:
        if self._networks and (
            facts.client_ip is None or not any(facts.client_ip in n for n in self._networks)
        ):
            return False
        if self._methods and facts.method not in self._methods:
            return False
        if self._paths and not self._paths.matches(facts.path):
            return False
        if self._user_agents and not self._user_agents.matches(facts.user_agent):
            return False
        for header, pattern in self._headers:
            value = facts.headers.get(header)
            if value is None or not pattern.matches(value):
                return False
        if self._when is not None:
            try:
                return bool(self._when(facts))
            except Exception:
                logger.exception("rule %r: its callable raised; treating as no match", self.name)
                return False
        return True


class RuleList:
    """Rules of one phase, in order; `first_match` returns the name of the first that matches."""

    __slots__ = ("_rules",)

    def __init__(self, specs: Sequence[RuleSpec]) -> None:
        self._rules = tuple(CompiledRule(spec) for spec in specs)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def first_match(self, facts: Facts) -> str | None:
        for rule in self._rules:
            if rule.matches(facts):
                return rule.name
        return None
