"""The lease binding holds every input a detector reads (as tests/test_header_memo.py does):
each detector of the shipped plans is run on a recording view of a request's `Facts`, and any
attribute it reads that `lease.table.binding` does not, and that is not per request by design,
fails here, so a future detector input cannot silently escape the binding. Also: the table
stays within `max_clients` under a flood of clients, each evicted lease settled."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

from scrapeshield.facts import Facts
from scrapeshield.lease.lease import UNBOUND, binding
from scrapeshield.ratelimit.settings import DEFAULT_GROUPS, LimitGroupSpec
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.store import MemoryStore
from tests.browsers import chrome, chrome_asset, chrome_image
from tests.windows import room

PER_REQUEST = {
    "method": "the kind (the table's key)",
    "route_group": "the kind",
    "route": "the kind",
    "client_key": "the table's key",
    "path": "each detector that reads it says whether a lease covers it (`lease_covers`)",
    "time": "recorded with each leased request",
    "request_id": "names the request only",
    "header": "a method: reads `headers`, recorded there",
    "cookie": "a method: reads `headers`, recorded there",
}


class _Headers(Mapping[str, str]):
    """Records "headers" on any read, and `value:<name>` for each field's value read."""

    def __init__(self, real: Mapping[str, str], read: set[str]) -> None:
        self._real, self._read = real, read

    def __getitem__(self, key: str) -> str:
        self._read.add("headers")
        self._read.add(f"value:{key}")
        return self._real[key]

    def __contains__(self, key: object) -> bool:  # (a name, not a value)
        self._read.add("headers")
        return key in self._real

    def __iter__(self) -> Iterator[str]:
        self._read.add("headers")
        return iter(self._real)

    def __len__(self) -> int:
        self._read.add("headers")
        return len(self._real)


class _Recording:
    """A `Facts` look-alike that notes every attribute read."""

    def __init__(self, facts: Facts) -> None:
        object.__setattr__(self, "_facts", facts)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        value = getattr(self._facts, name)
        if name == "headers":
            return _Headers(value, self.read)
        if name in ("header", "cookie"):  # methods: bind them to this view
            return getattr(Facts, name).__get__(self)
        return value


def _requests() -> list[tuple[str, dict[str, str]]]:
    page = chrome()
    return [
        ("/art/1", page),
        ("/art/2", chrome(Referer="https://testserver/art/1")),
        ("/static/gallery.css", chrome_asset("https://testserver/art/2", "style")),
        ("/images/1.png", chrome_image("https://testserver/art/1")),
        ("/api/artworks", {**page, "Accept": "application/json"}),
        ("/api/artworks", {**page, "Cookie": "sv=abc; ss_pass=x"}),
    ]


def _settings(**lease: Any) -> Settings:
    """Leases on, the api group roomier than its 30 a 10 s: a lease is reserved only where it
    leaves 4 leases' worth of room (docs/leases.md), and these tests want the api leased."""
    groups = {**DEFAULT_GROUPS, "api": LimitGroupSpec(limits="300/10 seconds", headers=True)}
    return Settings(lease={"enabled": True, **lease}, ratelimit={"groups": groups})


def test_the_binding_holds_every_input_the_detectors_read() -> None:
    async def run() -> None:
        shield = Shield(_settings(), store=MemoryStore())
        identity = next(d for d in shield.detectors if d.name == "identity")
        first = shield.facts(synthetic_scope(path="/", headers=list(chrome().items())))
        token = identity.tokens.issue(first)[1].decode().split(";")[0]  # type: ignore[attr-defined]
        for path, headers in _requests():
            if "Sec-Fetch-Dest" in headers and headers["Sec-Fetch-Dest"] == "document":
                headers = {**headers, "Cookie": token}  # a returning visitor's page: leased
            scope = synthetic_scope(path=path, headers=list(headers.items()))
            facts = shield.facts(scope)
            bound = _Recording(facts)
            binding(bound)  # type: ignore[arg-type]
            assert "headers" in bound.read
            await shield.decide(facts, shield.context())  # the plans, built
            # seen again: granted (a client's first evaluation of a key is not)
            await shield.decide(shield.facts(scope), shield.context())
            assert shield.leases is not None
            held = shield.leases._table.get(facts.client_key, {})
            kind = (facts.method, facts.route_group, facts.route)
            leased = any(key[0] == kind for key in held)
            for detector, run in shield._plans.for_request(facts).entries:
                seen = _Recording(facts)
                ctx = shield.context()
                found = run(seen, ctx)  # type: ignore[arg-type]
                if asyncio.isfuture(found) or asyncio.iscoroutine(found):
                    await found
                terms = getattr(detector, "lease_terms", None)
                if terms is not None:
                    terms(seen, ctx)
                values = {name for name in seen.read if name.startswith("value:")}
                missed = seen.read - values - bound.read - set(PER_REQUEST)
                assert not missed, f"{detector.name} reads {missed}, which no lease binds"
                # every value is bound but the Referer's: read only where no lease is held
                if leased:
                    assert f"value:{UNBOUND}" not in values, f"{detector.name}: {path}"
            if path.startswith("/images/"):
                assert not leased  # (behaviour reads its Referer)
            else:
                assert leased, path

    asyncio.run(run())


def test_the_table_stays_bounded_and_settles_what_it_evicts() -> None:
    async def run() -> None:
        shield = Shield(_settings(max_clients=16), store=MemoryStore())
        leases = shield.leases
        assert leases is not None
        api = {**chrome(), "Accept": "application/json"}
        await room(2.0, 10.0)  # no 10 s bucket's end cuts a lease short (test_lease_person)
        for client in range(200):
            for _ in range(4):  # in full, granted, then used twice
                ip = f"10.{client}.0.1"  # a network each: no network limit shared
                scope = synthetic_scope(path="/api/artworks", headers=list(api.items()), ip=ip)
                decision = await shield.decide(shield.facts(scope), shield.context())
                assert decision.rule == "allow"
            assert len(leases) <= 16
        assert leases.granted == 200
        assert leases.used == 400
        assert leases.settled == 400 - 2 * len(leases)  # the evicted ones, counted
        await shield.aclose()
        assert leases.settled == 400
        assert len(leases) == 0

    asyncio.run(run())


def test_a_ban_ends_a_lease_at_once_on_memory() -> None:
    """Written by `Shield.ban` (its leases end) or straight into the store (as another path
    would): the next request is refused, not allowed by its lease."""

    async def run() -> None:
        shield = Shield(_settings(), store=MemoryStore())
        leases = shield.leases
        assert leases is not None
        api = list({**chrome(), "Accept": "application/json"}.items())

        async def decide(ip: str) -> str:
            scope = synthetic_scope(path="/api/artworks", headers=api, ip=ip)
            return (await shield.decide(shield.facts(scope), shield.context())).rule

        await room(1.0, 10.0)  # no 10 s bucket's end cuts a lease short (test_lease_person)
        for ip, ban in (("198.51.100.7", "shield"), ("198.51.100.8", "store")):
            assert [await decide(ip) for _ in range(4)] == ["allow"] * 4  # in full, granted
            assert leases.used >= 2
            if ban == "shield":
                await shield.ban(ip, 60)
            else:
                await shield.bans.ban(shield.client_key_for(ip), 60, reason="test", rule="test")
            assert await decide(ip) == "ban/active"
        await shield.aclose()

    asyncio.run(run())


def test_a_dry_run_never_grants_or_uses_a_lease() -> None:
    """`scrapeshield explain` (a dry run) always runs the whole pipeline."""

    async def run() -> None:
        shield = Shield(_settings(), store=MemoryStore())
        leases = shield.leases
        assert leases is not None
        scope = synthetic_scope(
            path="/api/artworks", headers=list({**chrome(), "Accept": "application/json"}.items())
        )
        for _ in range(3):
            await shield.decide(shield.facts(scope), shield.context(dry_run=True))
        assert leases.granted == 0
        await shield.decide(shield.facts(scope), shield.context())  # in full: the first seen
        assert leases.granted == 0
        await shield.decide(shield.facts(scope), shield.context())
        assert leases.granted == 1
        decision = await shield.decide(shield.facts(scope), shield.context(dry_run=True))
        assert decision.rule == "allow"
        assert leases.used == 0  # explained in full, not by the lease
        await shield.aclose()

    asyncio.run(run())
