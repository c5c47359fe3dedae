"""Which limits a request spends: its group, its keys (client, network, user) and its cost.

Everything derived from settings is compiled once into a `Planner`; `plan` does per-request work
only. A request's plan lists every (scope, key, limit) it must fit in; `None` means exempt.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import limits
from limits import RateLimitItem

from scrapeshield.facts import Facts
from scrapeshield.patterns import GlobSet
from scrapeshield.ratelimit.settings import (
    VERIFIED_BOT_NOTE,
    GroupAction,
    RateLimitSettings,
    Strategy,
)

STRATEGY_CODES: dict[Strategy, int] = {
    "fixed-window": 1,
    "moving-window": 2,
    "sliding-window-counter": 3,
}
_MAX_KEY = 64


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit of one key: `quota` units per `window` seconds with `strategy`."""

    scope: str
    key: str
    item: RateLimitItem
    strategy: Strategy

    @property
    def quota(self) -> int:
        return int(self.item.amount)

    @property
    def window(self) -> int:
        return int(self.item.get_expiry())

    @property
    def storage_key(self) -> str:
        """`rl:<scope>:<key>:<quota>/<window>s:<strategy>`; limits of a scope share no counters."""
        code = STRATEGY_CODES[self.strategy]
        return f"rl:{self.scope}:{self.key}:{self.quota}/{self.window}s:{code}"


@dataclass(frozen=True, slots=True)
class Plan:
    group: str
    action: GroupAction
    cost: int
    limits: tuple[Limit, ...]


@dataclass(frozen=True, slots=True)
class _Group:
    name: str
    action: GroupAction
    cost: int
    strategy: Strategy
    client: tuple[RateLimitItem, ...]
    network: tuple[RateLimitItem, ...]
    user: tuple[RateLimitItem, ...]


class Planner:
    """Compiled from `RateLimitSettings` once; `plan(facts, notes)` per request."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._exempt = GlobSet(settings.exempt)
        self._groups: dict[str, _Group] = {}
        self._matchers: list[tuple[str, GlobSet, frozenset[str]]] = []
        for name, spec in settings.groups.items():
            self._groups[name] = _Group(
                name,
                spec.action,
                spec.cost,
                spec.strategy or settings.strategy,
                _parse(spec.limits),
                _parse(spec.network_limits),
                _parse(spec.user_limits),
            )
            if spec.paths:
                self._matchers.append((name, GlobSet(spec.paths), frozenset(spec.methods)))
        self._bot_groups = dict(settings.bot_groups)
        user = settings.user
        self._user_header, self._user_cookie, self._user_resolve = (
            user.header,
            user.cookie,
            user.resolve,
        )

    def group_for(self, facts: Facts, notes: Mapping[str, object]) -> str | None:
        """The verified bot's own group, else None (exempt), own paths, route group, `default`."""
        bot = notes.get(VERIFIED_BOT_NOTE)
        if isinstance(bot, str) and bot:
            group = self._bot_groups.get(bot) or self._bot_groups.get("*")
            if group is not None:
                return group
        if self._exempt.matches(facts.path):
            return None
        for name, globs, methods in self._matchers:
            if (not methods or facts.method in methods) and globs.matches(facts.path):
                return name
        if facts.route_group in self._groups:
            return facts.route_group
        return "default"

    def plan(self, facts: Facts, notes: Mapping[str, object]) -> Plan | None:
        name = self.group_for(facts, notes)
        if name is None:
            return None
        group = self._groups[name]
        found: list[Limit] = []
        user = self.user_key(facts) if group.user else None
        if user is not None:
            found += [Limit("user", user, item, group.strategy) for item in group.user]
        else:
            client = self.client_key(facts)
            found += [Limit("client", client, item, group.strategy) for item in group.client]
        if group.network:
            network = self.network_key(facts)
            found += [Limit("network", network, item, group.strategy) for item in group.network]
        # Limits are named by group in the storage key too, so groups never share counters.
        limited = tuple(
            Limit(lim.scope, f"{name}:{lim.key}", lim.item, lim.strategy) for lim in found
        )
        return Plan(name, group.action, group.cost, limited) if limited else None

    # -- keys ----------------------------------------------------------------------------------

    def client_key(self, facts: Facts) -> str:
        """IPv4: the foundation's client key; IPv6: the address within `ipv6_prefix`."""
        address = facts.client_ip
        if isinstance(address, ipaddress.IPv6Address):
            return _network(address, self.settings.ipv6_prefix)
        return facts.client_key

    def network_key(self, facts: Facts) -> str:
        address = facts.client_ip
        if isinstance(address, ipaddress.IPv4Address):
            return _network(address, self.settings.network_ipv4_prefix)
        if isinstance(address, ipaddress.IPv6Address):
            return _network(address, self.settings.network_ipv6_prefix)
        return facts.client_key

    def user_key(self, facts: Facts) -> str | None:
        value: str | None = None
        if self._user_header:
            value = facts.header(self._user_header) or None
        if value is None and self._user_cookie:
            value = facts.cookie(self._user_cookie)
        if value is None and self._user_resolve is not None:
            value = self._user_resolve(facts)
        return safe_key(value) if value else None


def safe_key(value: str) -> str:
    """Short printable values as they are (readable in Redis); anything else as a digest."""
    value = value.strip()
    if len(value) <= _MAX_KEY and value.isascii() and value.isprintable() and " " not in value:
        return value
    return "h-" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


def _parse(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(limits.parse_many(text)) if text else ()


def _network(address: ipaddress.IPv4Address | ipaddress.IPv6Address, bits: int) -> str:
    if bits == address.max_prefixlen:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))
