"""A leased request's lease found without its key's hash (`Leases.use`): by the header set and
the other bound inputs of the last request that matched the lease's key. A request sharing that
headers dict (the facts memo's) but differing in any other bound input, or of another kind, is
never given that lease: its binding differs, so it is evaluated in full."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from scrapeshield.lease.lease import binding
from scrapeshield.lease.order import KEY_NOTE
from scrapeshield.ratelimit.settings import DEFAULT_GROUPS, LimitGroupSpec
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Decision
from scrapeshield.store import MemoryStore
from tests.browsers import chrome
from tests.windows import room

_API = list({**chrome(), "Accept": "application/json"}.items())
_OTHER = {
    "client_ip": None,
    "peer": "10.9.9.9",
    "scheme": "gopher",
    "http_version": "3",
    "host": "other.example",
    "secure_context": False,
    "via_proxy": True,
    "user_agent": "changed/1.0",
    "user_agent_truncated": True,
}


def _shield() -> Shield:
    groups = {**DEFAULT_GROUPS, "api": LimitGroupSpec(limits="300/10 seconds", headers=True)}
    settings = Settings(lease={"enabled": True}, ratelimit={"groups": groups})
    return Shield(settings, store=MemoryStore())


async def _leased_client(shield: Shield, ip: str) -> Any:
    """A client holding a lease, found by its granting request's header set: the facts of its
    last request."""
    scope = synthetic_scope(path="/api/artworks", headers=_API, ip=ip)
    for _ in range(2):  # in full, then granted (its header set kept with the lease)
        facts = shield.facts(scope)
        assert (await shield.decide(facts, shield.context())).rule == "allow"
    leases = shield.leases
    assert leases is not None
    assert (leases.granted, leases.used) == (1, 0)
    facts = shield.facts(scope)
    (lease,) = leases._table[facts.client_key].values()
    assert lease.left > 0
    assert lease.headers is facts.headers
    ctx = shield.context()  # (found by that set, it goes on)
    assert isinstance(
        leases.use(facts, (facts.method, facts.route_group, facts.route), ctx), Decision
    )
    return facts


def test_a_shared_header_set_with_another_bound_input_is_not_leased() -> None:
    async def run() -> None:
        await room(1.0, 10.0)
        for n, (field, value) in enumerate(_OTHER.items()):
            shield = _shield()
            leases = shield.leases
            assert leases is not None
            facts = await _leased_client(shield, f"198.51.100.{n + 1}")
            kind = (facts.method, facts.route_group, facts.route)
            other = msgspec.structs.replace(facts, **{field: value})
            assert other.headers is facts.headers
            ctx = shield.context()
            assert leases.use(other, kind, ctx) is False, field  # another binding: in full
            assert ctx.notes[KEY_NOTE] == (kind, binding(other))
            await shield.aclose()

    asyncio.run(run())


def test_a_shared_header_set_of_another_kind_is_not_leased() -> None:
    async def run() -> None:
        await room(1.0, 10.0)
        shield = _shield()
        leases = shield.leases
        assert leases is not None
        facts = await _leased_client(shield, "198.51.100.99")
        kind = (facts.method, facts.route_group, facts.route)
        for other in (("POST", *kind[1:]), (kind[0], "pages", kind[2])):
            ctx = shield.context()
            assert leases.use(facts, other, ctx) is False, other
            assert ctx.notes[KEY_NOTE] == (other, binding(facts))
        await shield.aclose()

    asyncio.run(run())
