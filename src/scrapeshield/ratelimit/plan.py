"""Which limits a request spends: its group, its keys (client, network, user, visitor) and cost.

Everything derived from settings is compiled once into a `Planner`; `plan` does per-request work
only. A request's plan lists every (scope, key, limit) it must fit in; `None` means exempt.
Plans depend only on (group, client address and key, user, visitor), so their keys are kept in
a bounded cache (oldest first out: a hit costs one lookup): a returning client reuses its keys
instead of formatting them again. What a client keeps is a plain tuple of strings and numbers
(`Keys`), which the garbage collector stops tracking; the group's `Rules` (its `Limit`s, cost,
action, policy field) are shared by every client of a group, and handed to the limiters beside
the client's keys: nothing is made per request (docs/log/store.md, "Per-client state").
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import limits
from limits import RateLimitItem

from scrapeshield.bans import UNKNOWN_CLIENT
from scrapeshield.client import IPAddress
from scrapeshield.facts import Facts, client_network
from scrapeshield.marks import RouteSpec
from scrapeshield.patterns import GlobSet
from scrapeshield.ratelimit.settings import (
    VERIFIED_BOT_NOTE,
    VISITOR_NOTE,
    GroupAction,
    RateLimitSettings,
    Strategy,
)
from scrapeshield.store.keys import subject_key

STRATEGY_CODES: dict[Strategy, int] = {
    "fixed-window": 1,
    "moving-window": 2,
    "sliding-window-counter": 3,
}
_MAX_KEY = 64
logger = logging.getLogger("scrapeshield")
PLAN_CACHE_SIZE = 4096
_MAX_CACHED_PATH = 256
TEST_CLIENT_PEER = "testclient"  # what Starlette's TestClient puts in scope["client"]
Keys = tuple[tuple[str, ...], tuple[str, ...], int]
"""A client's keys in a group: each limit's storage key, hit.lua's keys (each limit's in turn),
and the index of the rules they go with (the planner's). Strings and numbers in plain tuples,
one level deep, which the garbage collector stops tracking at its next full collection."""
_Cached = tuple[()] | Keys
"""A client's cached plan: its keys; () without limits."""


def policy_name(group: str, scope: str, quota: int, window: int) -> str:
    return f"{group}-{scope}-{quota}-{window}s"


def policy_field(limits: Sequence[Limit]) -> bytes:
    """The RateLimit-Policy value of a plan's limits (built with the plan, reused with it)."""
    return ", ".join(f'"{lim.name}";q={lim.quota};w={lim.window}' for lim in limits).encode(
        "latin-1"
    )


class Limit:
    """One limit of a group's scope: `quota` units per `window` seconds with `strategy`, shared
    by every subject (client, network, user, visitor) it counts.

    A subject's counters live under `storage_key(subject)`,
    `rl:<scope>:<group>:{<subject>}:<quota>/<window>s:<code>` (the strategy code keeps a changed
    strategy from reading another's data structure); `name` is its policy name in the RateLimit
    response fields.
    """

    __slots__ = (
        "field_prefix",
        "item",
        "name",
        "prefix",
        "quota",
        "rest",
        "scope",
        "sliding",
        "spec",
        "strategy",
        "window",
    )

    def __init__(self, group: str, scope: str, item: RateLimitItem, strategy: Strategy) -> None:
        self.scope = scope
        self.item = item
        self.strategy: Strategy = strategy
        self.sliding = strategy == "sliding-window-counter"
        self.quota = int(item.amount)
        self.window = int(item.get_expiry())
        code = STRATEGY_CODES[strategy]
        self.prefix = f"rl:{scope}:{group}:"
        self.rest = f":{self.quota}/{self.window}s:{code}"
        self.spec = (code, self.quota, self.window * 1000)
        """Its numbers in hit.lua (strategy code, quota, window in ms), before the cost."""
        self.name = policy_name(group, scope, self.quota, self.window)
        self.field_prefix = f'"{self.name}";r='.encode("latin-1")
        """The start of this limit's RateLimit field value (see `headers`)."""

    def storage_key(self, subject: str) -> str:
        """The subject's counter key (the subject is its Cluster hash tag: its counters share
        its slot)."""
        return subject_key(self.prefix, subject, self.rest)

    def redis_keys(self, storage_key: str) -> tuple[str, ...]:
        """Its keys in hit.lua: a sliding window's two buckets (by parity), else the one key."""
        return (f"{storage_key}/0", f"{storage_key}/1") if self.sliding else (storage_key,)

    def __repr__(self) -> str:
        return f"Limit({self.name!r})"


@dataclass(frozen=True, slots=True)
class Rules:
    """What every client of a group (with the same scopes) shares: built once. A request's
    plan is its rules and the client's `Keys`, handed apart (no object made per request)."""

    group: str
    action: GroupAction
    cost: int
    limits: tuple[Limit, ...]
    policy_header: tuple[bytes, bytes]
    """The RateLimit-Policy field, name and value (made once per group and scopes)."""
    headers: bool
    """Whether this group's responses carry the RateLimit fields."""

    @property
    def policy(self) -> bytes:
        """The RateLimit-Policy field value of these limits."""
        return self.policy_header[1]


class _Group:
    """A group's limits by scope, built once (the group is part of every key, so groups never
    share counters)."""

    __slots__ = ("action", "client", "cost", "headers", "name", "network", "user", "visitor")

    def __init__(
        self,
        name: str,
        action: GroupAction,
        cost: int,
        strategy: Strategy,
        limits: Mapping[str, str],
        headers: bool = False,
    ) -> None:
        self.name = name
        self.action: GroupAction = action
        self.cost = cost
        self.headers = headers
        self.client, self.network, self.user, self.visitor = (
            tuple(Limit(name, scope, item, strategy) for item in _parse(limits.get(scope, "")))
            for scope in ("client", "network", "user", "visitor")
        )


class Planner:
    """Compiled from `RateLimitSettings` once; `plan(facts, notes)` per request."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._exempt = GlobSet(settings.exempt)
        self._groups: dict[str, _Group] = {}
        for name, spec in settings.groups.items():
            texts = {
                "client": spec.limits,
                "network": spec.network_limits,
                "user": spec.user_limits,
                "visitor": spec.visitor_limits,
            }
            strategy = spec.strategy or settings.strategy
            self._groups[name] = _Group(name, spec.action, spec.cost, strategy, texts, spec.headers)
        self._bot_groups = dict(settings.bot_groups)
        self._user_groups = frozenset(name for name, g in self._groups.items() if g.user)
        self._visitor_groups = frozenset(name for name, g in self._groups.items() if g.visitor)
        user = settings.user
        self._user_header, self._user_cookie, self._user_resolve = (
            user.header,
            user.cookie,
            user.resolve,
        )
        # (method, path, route group) -> group, None if exempt: most requests repeat a few pages
        self._paths: dict[tuple[str, str, str], str | None] = {}
        # (group, client key, user, visitor, address as an int or None) -> (keys, hit.lua's
        # keys, rules index), () without limits: strings and numbers only, which the collector
        # stops tracking.
        # (An OrderedDict: its oldest entry found in O(1); a dict's `next(iter())` skips every
        # entry deleted before it, O(cache size) per new client once the cache is full.)
        self._plans: OrderedDict[tuple[str, str, str | None, object, int | None], _Cached] = (
            OrderedDict()
        )
        self._rules: list[Rules] = []
        self._rules_at: dict[tuple[Limit, ...], int] = {}
        self.max_plans = PLAN_CACHE_SIZE
        self._warned_unknown = False

    def group_for(self, facts: Facts, notes: Mapping[str, object]) -> str | None:
        """A verified bot's own group (None if it has none); else None if exempt, else the group."""
        bot = notes.get(VERIFIED_BOT_NOTE)
        if isinstance(bot, str) and bot:
            # A verified bot is limited only by the group the operator gave it, else not at all.
            return self._bot_groups.get(bot) or self._bot_groups.get("*")
        key = (facts.method, facts.path, facts.route_group)
        try:
            return self._paths[key]
        except KeyError:
            pass
        name = self._group_of(facts)
        if len(self._paths) >= PLAN_CACHE_SIZE:  # paths come from clients: stay bounded
            self._paths.clear()
        if len(facts.path) <= _MAX_CACHED_PATH:
            self._paths[key] = name
        return name

    def reads_path(self) -> bool:
        """Whether a request's group (`group_for`, notes aside) can differ between two requests
        of one method, route group and marked route: only an exempt glob reads the path."""
        return bool(self._exempt)

    def _group_of(self, facts: Facts) -> str | None:
        if self._exempt.matches(facts.path):
            return None
        route = facts.route
        if route is not None:  # marks in code or [routes.<name>]
            if route.exempt:
                return None
            if route.limit_group is not None:
                return self._route_group(route.limit_group, route.spec)
        if facts.route_group in self._groups:
            return facts.route_group
        return "default"

    def _route_group(self, name: str, spec: RouteSpec) -> str:
        """A marked route's own limit group, compiled at its first request (marks are read
        from the app's routes, which settings do not know)."""
        if name not in self._groups:
            strategy = self.settings.strategy
            limits = {"client": spec.limits}
            self._groups[name] = _Group(name, spec.action, spec.cost, strategy, limits)
        return name

    def plan(self, facts: Facts, notes: Mapping[str, object]) -> tuple[Rules, Keys] | None:
        """The request's group's shared rules and the client's keys; None if exempt."""
        name = self.group_for(facts, notes)
        if name is None:
            return None
        user = self.user_key(facts) if name in self._user_groups else None
        visitor = notes.get(VISITOR_NOTE) if name in self._visitor_groups else None
        address, client_key = facts.client_ip, facts.client_key
        # A client key of a network (`/`) may hold addresses this planner counts apart: then
        # the address is part of the key, as an int (the address object would keep the entry
        # tracked); a key without `/` is its address (or "unknown") already.
        ip = int(address) if address is not None and "/" in client_key else None
        key = (name, client_key, user, visitor, ip)
        plans = self._plans
        cached = plans.get(key)
        if cached is None:
            if len(plans) >= self.max_plans:
                plans.pop(next(iter(plans)), None)  # the oldest: if still active, compiled again
            if client_key == UNKNOWN_CLIENT and not self._warned_unknown:
                self._warn_unknown(facts.peer)
            cached = plans[key] = self._compile(name, client_key, address, user, visitor)
        if not cached:
            return None
        return self._rules[cached[2]], cached

    def _compile(
        self,
        name: str,
        client_key: str,
        address: IPAddress | None,
        user: str | None,
        visitor: object = None,
    ) -> _Cached:
        group = self._groups[name]
        found: list[tuple[Limit, str]] = []
        if isinstance(visitor, str) and visitor:
            found += [(lim, visitor) for lim in group.visitor]
        if user is not None:
            found += [(lim, user) for lim in group.user]
        elif client_key != UNKNOWN_CLIENT:
            client = self._client_key(address, client_key)
            found += [(lim, client) for lim in group.client]
        if group.network and client_key != UNKNOWN_CLIENT:
            network = self._network_key(address, client_key)
            found += [(lim, network) for lim in group.network]
        if not found:
            return ()
        limits = tuple(lim for lim, _ in found)
        keys = tuple(lim.storage_key(subject) for lim, subject in found)
        redis_keys = tuple(
            k for lim, key in zip(limits, keys, strict=True) for k in lim.redis_keys(key)
        )
        return (keys, redis_keys, self._rules_of(group, limits))

    def _rules_of(self, group: _Group, limits: tuple[Limit, ...]) -> int:
        """The index of the group's shared rules for these limits (a group has a few sets:
        with or without a visitor, a user or a client, a network)."""
        index = self._rules_at.get(limits)
        if index is None:
            field = (b"ratelimit-policy", policy_field(limits))
            self._rules.append(
                Rules(group.name, group.action, group.cost, limits, field, group.headers)
            )
            index = self._rules_at[limits] = len(self._rules) - 1
        return index

    def _warn_unknown(self, peer: str | None) -> None:
        """Requests without a client address are not limited by address: counted under one
        key, every person behind the same misconfigured proxy would be throttled together.
        Said once per process, naming the likely cause."""
        self._warned_unknown = True
        if peer == TEST_CLIENT_PEER:
            logger.warning(
                "scrapeshield: Starlette's TestClient reports the client %r, not an address, so "
                "rate limits by client and network do not apply in these tests. Give it one: "
                "TestClient(app, client=scrapeshield.testing.TEST_CLIENT_ADDRESS) "
                "(docs/testing.md)",
                peer,
            )
        elif peer is None:
            logger.warning(
                "scrapeshield: requests arrive without a client address, so rate limits by "
                "client and network do not apply to them (user limits still do). A proxy on a "
                'Unix socket? Add "unix" to trusted_proxies.'
            )
        else:
            logger.warning(
                "scrapeshield: the server reports the client %r, which is not an IP address, so "
                "rate limits by client and network do not apply to it (user limits still do)",
                peer[:64],
            )

    # -- keys ----------------------------------------------------------------------------------

    def client_key(self, facts: Facts) -> str:
        """IPv4: the foundation's client key; IPv6: the address within `ipv6_prefix`."""
        return self._client_key(facts.client_ip, facts.client_key)

    def network_key(self, facts: Facts) -> str:
        return self._network_key(facts.client_ip, facts.client_key)

    def _client_key(self, address: IPAddress | None, client_key: str) -> str:
        if isinstance(address, ipaddress.IPv6Address):
            return _network(address, self.settings.ipv6_prefix)
        return client_key

    def _network_key(self, address: IPAddress | None, client_key: str) -> str:
        if isinstance(address, ipaddress.IPv4Address):
            return _network(address, self.settings.network_ipv4_prefix)
        if isinstance(address, ipaddress.IPv6Address):
            return _network(address, self.settings.network_ipv6_prefix)
        return client_key

    def user_key(self, facts: Facts) -> str | None:
        value: str | None = None
        if self._user_header:
            value = facts.header(self._user_header) or None
        if value is None and self._user_cookie:
            value = facts.cookie(self._user_cookie)
        if value is None and self._user_resolve is not None:
            resolved = self._user_resolve(facts)
            value = None if resolved is None else str(resolved)
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
    """`192.0.2.0/24`, `2001:db8::/48`: the network's text, as `ipaddress` writes it."""
    if bits >= address.max_prefixlen:
        return str(address)
    return client_network(address, bits, bits)  # (an IPv4 one from its integer: no parsing)
