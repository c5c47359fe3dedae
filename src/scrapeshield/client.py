"""Who is the client: the peer, or the address a *trusted* proxy vouches for, grouped into a key.

Forwarding headers are read only when the peer itself is a trusted proxy, and only the one header
the operator named (a proxy that sets `X-Forwarded-For` passes a client's forged `Forwarded`
through untouched). The chain is walked right to left, skipping trusted hops; the first untrusted
address is the client. Malformed entries end the walk at the last address we could verify, and
so does the `MAX_HOPS`th hop (what lies left of it is never read: a long chain costs no more).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapeshield.settings import Settings

_CACHE_SIZE = 16_384
_MAX_CACHED_HEADER = 256  # longer forwarding chains are resolved every time, never cached
# Hops walked from the right of a forwarding chain. Only hops our own proxies added can be
# trusted, and no deployment chains this many; the left part is the client's to write.
MAX_HOPS = 32

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(text: str) -> IPAddress | None:
    """Parse an address as proxies write it (`[v6]:port`, `v4:port`, quoted); None if invalid."""
    value = text.strip().strip('"').strip()
    if not value or len(value) > 64:
        return None
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return None
        value = value[1:end]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    if "%" in value:
        value = value.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_for(header: str, last: int | None = None) -> list[str]:
    """The `for=` values of an RFC 7239 `Forwarded` header, in order (malformed ones as ""):
    of its `last` elements only, if given (the rest is never split or read)."""
    hops: list[str] = []
    elements = header.split(",") if last is None else header.rsplit(",", last)[-last:]
    for element in elements:
        value = ""
        for pair in element.split(";"):
            key, sep, raw = pair.partition("=")
            if sep and key.strip().lower() == "for":
                value = raw.strip()
        hops.append(value)
    return hops


def forwarded_proto(header: str) -> str | None:
    """The `proto=` of the last element of a `Forwarded` header (the one our proxy added)."""
    last = header.rsplit(",", 1)[-1]
    for pair in last.split(";"):
        key, sep, raw = pair.partition("=")
        if sep and key.strip().lower() == "proto":
            return raw.strip().strip('"').lower() or None
    return None


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    ip: IPAddress | None
    key: str
    via_proxy: bool
    scheme: str | None


Resolved = tuple[int, int, str, bool, str | None]
"""A client as the caches keep it: its address as an integer and its IP version (0: none; then
the integer is 0), its key, whether a proxy vouched for it, and the scheme the proxy saw. A plain
tuple of numbers and strings, one per client seen, which the garbage collector stops tracking,
where a `ClientIdentity` and its `IPv4Address` are walked by every full collection
(docs/log/store.md, "Per-client state"); a request makes its address from it (`address_of`)."""


def address_of(resolved: Resolved) -> IPAddress | None:
    """The address of a resolved client (~0.3 µs: `ipaddress` from an integer)."""
    number, version = resolved[0], resolved[1]
    if version == 4:
        return ipaddress.IPv4Address(number)
    return ipaddress.IPv6Address(number) if version else None


def _kept(identity: ClientIdentity) -> Resolved:
    ip = identity.ip
    number, version = (int(ip), ip.version) if ip is not None else (0, 0)
    return number, version, identity.key, identity.via_proxy, identity.scheme


class ClientResolver:
    """Compiled from settings once; `resolve` is called for every request."""

    __slots__ = ("_cached", "_header", "_trusted", "_unix", "_v4_prefix", "_v6_prefix")

    def __init__(
        self, trusted_proxies: Iterable[str], header: str, ipv4_prefix: int, ipv6_prefix: int
    ) -> None:
        proxies = list(trusted_proxies)
        # `unix`: the server reports no peer (a proxy on a Unix socket); without it every
        # client behind that proxy would share the one key "unknown" (and its bans).
        self._unix = "unix" in proxies
        self._trusted: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(cidr, strict=False) for cidr in proxies if cidr != "unix"
        )
        self._header = header
        self._v4_prefix = ipv4_prefix
        self._v6_prefix = ipv6_prefix
        # Parsing addresses is most of the cost of a request's facts; a flood of distinct
        # clients only evicts entries, it cannot grow the cache.
        self._cached = functools.lru_cache(maxsize=_CACHE_SIZE)(self._resolved)

    def is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self._trusted)

    def key_for(self, address: IPAddress | None, *, prefix: int | None = None) -> str:
        """The counting key: an IPv4 address, or the IPv6 network of the configured prefix."""
        if address is None:
            return "unknown"
        if isinstance(address, ipaddress.IPv4Address):
            bits = self._v4_prefix if prefix is None else min(prefix, 32)
            if bits == 32:
                return str(address)
        else:
            bits = self._v6_prefix if prefix is None else min(prefix, 128)
            if bits == 128:
                return str(address)
        return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))

    def resolve(self, peer: str | None, headers: Mapping[str, str]) -> ClientIdentity:
        resolved = self.resolved(peer, headers)
        return ClientIdentity(address_of(resolved), *resolved[2:])

    def resolved(self, peer: str | None, headers: Mapping[str, str]) -> Resolved:
        """`resolve` as the caches keep it. Pure in (peer, forwarding header, proto), so
        answers are cached (bounded LRU)."""
        raw = headers.get(self._header) if self._trusted or self._unix else None
        proto = headers.get("x-forwarded-proto") if raw and self._header != "forwarded" else None
        if raw is not None and len(raw) > _MAX_CACHED_HEADER:
            return self._resolved(peer, raw, proto)
        return self._cached(peer, raw, proto)

    def _resolved(self, peer: str | None, raw: str | None, proto: str | None) -> Resolved:
        return _kept(self._resolve(peer, raw, proto))

    def _resolve(self, peer: str | None, raw: str | None, proto: str | None) -> ClientIdentity:
        address = parse_ip(peer) if peer else None
        unix_proxy = not peer and self._unix
        if not unix_proxy and (
            address is None or not self._trusted or not self.is_trusted(address)
        ):
            return ClientIdentity(address, self.key_for(address), False, None)
        if not raw:
            return ClientIdentity(address, self.key_for(address), False, None)
        if self._header == "forwarded":
            hops = forwarded_for(raw, MAX_HOPS)
            scheme = forwarded_proto(raw)
        elif self._header == "x-real-ip":
            hops = [raw]
            scheme = _last_proto(proto)
        else:
            hops = raw.rsplit(",", MAX_HOPS)[-MAX_HOPS:]
            scheme = _last_proto(proto)
        client = address
        for hop in reversed(hops):
            parsed = parse_ip(hop)
            if parsed is None:
                break
            client = parsed
            if not self.is_trusted(parsed):
                break
        if scheme not in (None, "http", "https"):
            scheme = None
        return ClientIdentity(client, self.key_for(client), client != address, scheme)


def _last_proto(proto: str | None) -> str | None:
    if not proto:
        return None
    return proto.rsplit(",", 1)[-1].strip().lower() or None


class TargetError(ValueError):
    """An argument that names no client key the shield uses (the message says what would)."""


def client_key_of(target: str, settings: Settings) -> str:
    """The client key for an IP address or a CIDR network, grouped as requests are.

    A network is accepted when it is one client key: exactly `ipv4_prefix` (IPv4, default /32)
    or `ipv6_prefix` (IPv6, default /64) bits, or a single address (/32, /128). Anything else
    raises `TargetError` naming what is accepted (`list`, a host name, or a /24 when addresses
    are keyed one by one: keeping out a network is the blocklist's job)."""
    text = target.strip()
    resolver = ClientResolver(
        [], settings.client_ip_header, settings.ipv4_prefix, settings.ipv6_prefix
    )
    address = parse_ip(text) if "/" not in text else None
    if address is not None:
        return resolver.key_for(address)
    accepted = (
        f"an IPv4 or IPv6 address, or a network of the size clients are keyed by "
        f"(/{settings.ipv4_prefix} for IPv4, /{settings.ipv6_prefix} for IPv6: settings "
        f"ipv4_prefix, ipv6_prefix)"
    )
    if "/" not in text:
        hint = "; to list bans: scrapeshield bans" if text.lower() == "list" else ""
        raise TargetError(f"{target!r} is not an IP address or a network; give {accepted}{hint}")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise TargetError(f"{target!r} is not a network; give {accepted}") from None
    size = settings.ipv4_prefix if network.version == 4 else settings.ipv6_prefix
    if network.prefixlen not in (size, network.max_prefixlen):
        raise TargetError(
            f"{target!r} is a /{network.prefixlen}, but clients are keyed by /{size} networks "
            f"here, so it is not one client; give {accepted}. To keep out a larger network, "
            "list it in a blocklist rule's `ips`"
        )
    return resolver.key_for(network.network_address)
