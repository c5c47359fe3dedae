"""Facts: the immutable view of one request that every stage reads, built once per request."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Mapping, Sequence
from random import getrandbits
from typing import Any

import msgspec

from scrapeshield.client import ClientResolver, IPAddress, address_of
from scrapeshield.errors import ConfigurationError
from scrapeshield.patterns import GlobSet
from scrapeshield.route_index import RouteIndex, RouteMark, find_routes, route_path
from scrapeshield.settings import RouteGroupSpec, Settings

logger = logging.getLogger("scrapeshield")

_MAX_REQUEST_ID = 64
_replace = msgspec.structs.replace
# A request's own id is 64 random bits as 16 hex digits, written by `to_bytes(8, "big").hex()`:
# the string `f"{n:016x}"` gives, at half its cost (1.1k instructions a request less).
# A Cookie header longer than this is not searched: the request is served as one without the
# shield's cookies (no pass, no user key). Browsers cap one cookie at 4 KiB and servers commonly
# refuse a header line over 8 KiB (nginx), so only a hostile or broken client sends more.
MAX_COOKIE_HEADER = 32 * 1024
# A request of more lines than this (a browser sends ~20) is read in two parts: its first
# MAX_HEADERS lines in full, and of its last _PROXY_TAIL lines only the headers a proxy adds
# (a proxy puts its own first or appends them last). The lines between are never read.
MAX_HEADERS = 128
_PROXY_TAIL = 32
_ROUTE_CACHE_SIZE = 4096
# Requests whose inputs but the path, the query and the time repeat (a client's same header
# lines from the same address) get their facts from the last such request's (`FactsBuilder`):
# at most this many kept, and none for a request of more header lines than _MEMO_LINES.
_MEMO_SIZE = 1024
_MEMO_LINES = 40
_MAX_CACHED_PATH = 256
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_SECURE_SCHEMES = frozenset({"https", "wss"})
# Field names browsers and crawlers send, as ASGI servers give them (lower case), and decoded.
_NAMES: dict[bytes, str] = {
    name.encode("latin-1"): name
    for name in [
        "host",
        "user-agent",
        "accept",
        "accept-language",
        "accept-encoding",
        "connection",
        "cookie",
        "referer",
        "upgrade-insecure-requests",
        "cache-control",
        "pragma",
        "dnt",
        "te",
        "priority",
        "if-none-match",
        "if-modified-since",
        "range",
        "origin",
        "content-type",
        "content-length",
        "authorization",
        "sec-fetch-dest",
        "sec-fetch-mode",
        "sec-fetch-site",
        "sec-fetch-user",
        "sec-gpc",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-real-ip",
        "forwarded",
        "x-request-id",
        "signature",
        "signature-input",
        "signature-agent",
    ]
}

# What a trusted proxy adds to a request.
_PROXY_HEADERS = frozenset(
    n.encode()
    for n in ("x-forwarded-for", "x-forwarded-proto", "x-real-ip", "forwarded", "x-request-id")
)


class Facts(msgspec.Struct, frozen=True):
    """What is known about a request before any detector runs; cheap, and never raises."""

    method: str
    path: str
    query: str
    scheme: str
    http_version: str
    host: str
    headers: Mapping[str, str]
    user_agent: str
    user_agent_truncated: bool
    peer: str | None
    client_ip: IPAddress | None
    client_key: str
    route_group: str
    request_id: str
    secure_context: bool
    via_proxy: bool = False
    time: float = msgspec.field(default_factory=time.time)
    route: RouteMark | None = None
    """The marked route the app will route this request to (`route` decorators or
    `[routes.<name>]`), or None (no marks: the path globs alone decide)."""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def cookie(self, name: str) -> str | None:
        return find_cookie(self.headers.get("cookie", ""), name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "client_key": self.client_key,
            "client_ip": str(self.client_ip) if self.client_ip else None,
            "user_agent": self.user_agent,
            "route_group": self.route_group,
            "route": self.route.key if self.route is not None else None,
            "route_marks": self.route.spec.describe() if self.route is not None else None,
            "request_id": self.request_id,
        }


def find_cookie(header: str, name: str) -> str | None:
    """The value of cookie `name` in a Cookie header (the last, if repeated), or None.

    Only that cookie is looked for (`str.rfind`, no parse of the others), so the cost is a scan
    of the header whatever it holds; a header over `MAX_COOKIE_HEADER` is not read at all.
    """
    if len(header) > MAX_COOKIE_HEADER or not name:
        return None
    needle = name + "="
    end = len(header)
    while (at := header.rfind(needle, 0, end)) >= 0:
        before = at - 1
        while before >= 0 and header[before] in " \t":
            before -= 1
        if before < 0 or header[before] == ";":  # the start of a cookie, not `xname=`
            stop = header.find(";", at)
            value = header[at + len(needle) : stop if stop >= 0 else len(header)].strip(" \t")
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
        end = at + len(needle) - 1  # a later `name=` inside `xname=`: look further left
    return None


_NETWORK_CACHE_SIZE = 4096
_networks: dict[tuple[int, int, int], str] = {}


def client_network(ip: IPAddress, ipv4_prefix: int, ipv6_prefix: int) -> str:
    """The network an address belongs to, as `ipaddress` writes it (`192.0.2.0/24`,
    `2001:db8::/48`): the key of per-network counters (identity's issuance and budgets, the
    unverified-bot counter). An IPv4 network is written from its masked integer (~0.5 µs, so
    nothing is kept per address); an IPv6 one by `ipaddress` (~3 µs), once per address and
    prefix: bounded, since addresses come from clients."""
    if ip.version == 4 and 0 <= ipv4_prefix <= 32:
        n = int(ip) & (0xFFFFFFFF << (32 - ipv4_prefix)) & 0xFFFFFFFF
        return f"{n >> 24}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}/{ipv4_prefix}"
    bits = ipv4_prefix if ip.version == 4 else ipv6_prefix
    key = (int(ip), bits, ip.version)
    found = _networks.get(key)
    if found is None:
        found = str(ipaddress.ip_network((ip, bits), strict=False))
        if len(_networks) >= _NETWORK_CACHE_SIZE:
            _networks.clear()
        _networks[key] = found
    return found


class RouteMatcher:
    """Route groups in order; the first group whose globs (and methods) match names the request."""

    __slots__ = ("_groups",)

    def __init__(self, groups: list[RouteGroupSpec]) -> None:
        self._groups = [
            (g.name, GlobSet(g.paths), frozenset(m.upper() for m in g.methods)) for g in groups
        ]

    def group_for(self, method: str, path: str) -> str:
        for name, globs, methods in self._groups:
            if (not methods or method in methods) and globs.matches(path):
                return name
        return "default"


_Kept = tuple[Facts, bool, list[Any]]
"""A kept request's facts, whether their request id is its own, and its header lines."""


class FactsBuilder:
    """Everything derived from settings compiled once, so `build` does only per-request work."""

    __slots__ = (
        "_groups",
        "_index",
        "_known_groups",
        "_last",
        "_looked_for_routes",
        "_max_ua",
        "_memo",
        "_named",
        "_resolver",
        "_routes",
        "_seen",
        "_trust_request_id",
    )

    def __init__(self, settings: Settings) -> None:
        self._resolver = ClientResolver(
            settings.trusted_proxies,
            settings.client_ip_header,
            settings.ipv4_prefix,
            settings.ipv6_prefix,
        )
        self._routes = RouteMatcher(list(settings.route_groups))
        # (method, path) -> (route group, marked route): most requests repeat a few pages
        self._groups: dict[tuple[str, str], tuple[str, RouteMark | None]] = {}
        self._named = dict(settings.routes)
        self._known_groups = frozenset(
            {"default", *(g.name for g in settings.route_groups), *settings.ratelimit.groups}
        )
        self._index: RouteIndex | None = None
        self._looked_for_routes = False
        self._max_ua = settings.user_agent_max_length
        self._trust_request_id = settings.trust_request_id
        # (address, scheme, version, method, header lines) -> facts, whether their request id
        # is the request's own (a trusted X-Request-Id header, so the same for every repeat),
        # and the header lines as a list
        self._memo: dict[tuple[Any, ...], _Kept] = {}
        self._seen: set[int] = set()  # the keys' hashes seen once (plain integers)
        # (address, scheme, version, method) -> the entry of `_memo` it last found: a client's
        # repeat is found by comparing its header lines with that entry's, not by hashing them
        self._last: dict[tuple[Any, ...], _Kept] = {}

    @property
    def resolver(self) -> ClientResolver:
        return self._resolver

    @property
    def route_index(self) -> RouteIndex | None:
        return self._index

    def bind_routes(self, routes: Sequence[Any]) -> None:
        """Read the app's routes and their marks (raises `ConfigurationError`: a mark's unknown
        group, a `[routes.<name>]` naming no route)."""
        self._looked_for_routes = True
        self._index = RouteIndex(routes, self._named, self._known_groups)
        self._groups.clear()

    def _find_routes(self, scope: Mapping[str, Any]) -> None:
        """At the first request, when the routes were not known at start-up: Starlette puts
        the app in `scope["app"]` before its middleware runs."""
        self._looked_for_routes = True
        routes = find_routes(scope.get("app"))
        if routes is None:
            if self._named:
                logger.warning(
                    "scrapeshield: settings.routes names routes, but the app has no Starlette "
                    "routes to read them from; they are ignored (use route_groups globs)"
                )
            return
        try:
            self.bind_routes(routes)
        except ConfigurationError as exc:
            logger.error("scrapeshield: route marks are ignored: %s", exc)

    def build(self, scope: Mapping[str, Any]) -> Facts:
        """The request's facts. A request whose address, scheme, HTTP version, method and header
        lines (every byte, the cookie and the Referer too) repeat one seen twice gets that
        one's facts with its own path, query, route, request id (unless its header gave it) and
        time: every other field follows from those inputs alone (the client resolver reads the
        address and the headers), and decoding ~14 header lines into a new dict was most of a
        build (in process ~7 µs of a leased request: docs/log/architecture.md, "The facts of a
        repeated request")."""
        raw_headers = scope.get("headers") or ()
        key = None
        if len(raw_headers) <= _MEMO_LINES:
            client = scope.get("client")
            try:
                peer = (
                    client[0] if client else None,
                    scope.get("scheme"),
                    scope.get("http_version"),
                    scope.get("method"),
                )
                # The client's last entry when its lines are equal (one compare of the lines,
                # which hashing them all costs several times over: server-made bytes are new
                # objects, their hashes not yet known), else the whole key's.
                found = self._last.get(peer)
                if found is None or found[2] != raw_headers:
                    key = (peer, tuple(raw_headers))
                    if (found := self._memo.get(key)) is not None:
                        self._last[peer] = found
            except TypeError:  # header lines as lists (unhashable): built, not kept
                key = found = None
            if found is not None:  # a repeat: the earlier facts, this request's own fields
                facts, own_id, _ = found  # (here, not in a method of its own: one call less)
                method, path = facts.method, scope.get("path") or "/"
                query = scope.get("query_string")
                route = self._groups.get((method, path)) or self._route(scope, method, path)
                return _replace(
                    facts,
                    path=path,
                    query=query.decode("latin-1") if query else "",
                    route_group=route[0],
                    route=route[1],
                    request_id=facts.request_id
                    if own_id
                    else getrandbits(64).to_bytes(8, "big").hex(),
                    time=time.time(),
                )
        facts, own_id = self._build(scope, raw_headers)
        if key is not None:
            # kept at its second sight: a reader's requests rarely repeat (a page load's each
            # differ), and each kept facts would outlive its request for the collector to walk
            seen, at = self._seen, hash(key)
            if at not in seen:
                if len(seen) >= _MEMO_SIZE * 4:
                    seen.clear()
                seen.add(at)
                return facts
            if len(self._memo) >= _MEMO_SIZE:  # clients choose their headers: bounded
                self._memo.clear()
                self._last.clear()
            self._memo[key] = self._last[key[0]] = (facts, own_id, list(raw_headers))
        return facts

    def _build(self, scope: Mapping[str, Any], raw_headers: Any) -> tuple[Facts, bool]:
        """The facts built from the scope, and whether the request id is the request's own."""
        if len(raw_headers) > MAX_HEADERS:  # a flood of header lines: bounded work
            tail = raw_headers[max(MAX_HEADERS, len(raw_headers) - _PROXY_TAIL) :]
            headers = _joined(raw_headers[:MAX_HEADERS], tail)
        else:
            # Known names decoded once (`_NAMES`): each name's decode and lower, 17.6k a page more
            headers = {
                _NAMES.get(k) or k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in raw_headers
            }
            if len(headers) != len(raw_headers):  # a repeated header: join its values
                headers = _joined(raw_headers, ())
        user_agent = headers.get("user-agent", "")
        truncated = len(user_agent) > self._max_ua
        if truncated:
            user_agent = user_agent[: self._max_ua]
        client = scope.get("client")
        peer = str(client[0]) if client else None
        resolved = self._resolver.resolved(peer, headers)
        _, _, client_key, via_proxy, proxy_scheme = resolved
        # ASGI gives str values here (only `or` guards a server that leaves one out).
        scheme = proxy_scheme or scope.get("scheme") or "http"
        host = headers.get("host", "").lower()
        method = (scope.get("method") or "GET").upper()
        path = scope.get("path") or "/"
        query = scope.get("query_string")
        request_id = ""
        if self._trust_request_id or via_proxy:
            candidate = headers.get("x-request-id", "")
            if 0 < len(candidate) <= _MAX_REQUEST_ID and candidate.isprintable():
                request_id = candidate
        facts = Facts(
            method,
            path,
            query.decode("latin-1") if query else "",
            scheme,
            scope.get("http_version") or "1.1",
            host,
            headers,
            user_agent,
            truncated,
            peer,
            address_of(resolved),
            client_key,
            (found := self._groups.get((method, path)) or self._route(scope, method, path))[0],
            request_id or getrandbits(64).to_bytes(8, "big").hex(),
            scheme in _SECURE_SCHEMES or _is_local(host),
            via_proxy,
            time.time(),
            found[1],
        )
        return facts, bool(request_id)

    def _route(
        self, scope: Mapping[str, Any], method: str, path: str
    ) -> tuple[str, RouteMark | None]:
        """The route group and marked route, cached per (method, path)."""
        if not self._looked_for_routes:
            self._find_routes(scope)
        index = self._index
        if index is not None and index.stale():
            try:
                self.bind_routes(index.routes)
            except ConfigurationError as exc:
                logger.error("scrapeshield: new routes' marks are ignored: %s", exc)
                index.refresh_size()
            index = self._index
        mark = index.mark_for(method, route_path(scope)) if index is not None else None
        group = (mark.group if mark is not None else None) or self._routes.group_for(method, path)
        found = (group, mark)
        if len(self._groups) >= _ROUTE_CACHE_SIZE:  # paths come from clients: stay bounded
            self._groups.clear()
        if len(path) <= _MAX_CACHED_PATH:
            self._groups[(method, path)] = found
        return found


def _joined(raw_headers: Any, tail: Any) -> dict[str, str]:
    """Headers with repeated names joined (`; ` for cookies, `, ` for the rest, per RFC 9110),
    each joined once (no copy per repeat). From `tail`, the last lines of a request longer than
    `MAX_HEADERS` lines, only the headers a proxy adds are kept."""
    values: dict[str, list[str]] = {}
    for raw_name, raw_value in raw_headers:
        name = _NAMES.get(raw_name) or raw_name.decode("latin-1").lower()
        values.setdefault(name, []).append(raw_value.decode("latin-1"))
    for raw_name, raw_value in tail:
        if raw_name in _PROXY_HEADERS:
            values.setdefault(_NAMES[raw_name], []).append(raw_value.decode("latin-1"))
    return {
        name: ("; " if name == "cookie" else ", ").join(parts) if len(parts) > 1 else parts[0]
        for name, parts in values.items()
    }


def _is_local(host: str) -> bool:
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return hostname in _LOCAL_HOSTS
