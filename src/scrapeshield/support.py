"""Operator support: someone says "I am blocked". Find the request they name, see what holds
their client key, and lift it, from Python (an admin page) or the CLI (`scrapeshield unban`).

    support = Support(shield.store, shield.settings)
    key = support.client_key("198.51.100.4")     # an IP, or a network the shield keys by
    lifted = await support.lift(key, forget=True) # the ban, the trap flag, escalation history
    event = await support.find_event("3f0c9a1b2c3d4e5f")  # the id on the block page

What holds a client, by store key (all under the store's prefix):
  ban:<key>         a ban (CLI, policy or escalation)            -> lifted by `lift`
  bans:by-expiry    the index of bans (Redis; written with them)  -> updated by `lift`
  trap:<key>        a trap-path hit, blocks until it expires     -> lifted by `lift`
  traps:by-expiry   the index of trap flags (Redis; written with them) -> updated by `lift`
  rl:strikes:<key>  throttles counted toward an escalation ban   -> forgotten with `forget`
  rl:bans:<key>     the escalation level (the next ban is longer) -> forgotten with `forget`
Rate-limit windows and behaviour counters are left alone: they empty within their windows.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from scrapeshield.bans import LIST_LIMIT, Ban, BanList
from scrapeshield.behaviour.trap import TRAP_PREFIX

# a client key from an address or network: with the resolver, so that reading a log file need not
# import the store (scrapeshield log --file --client); named here too, where it began
from scrapeshield.client import TargetError as TargetError
from scrapeshield.client import client_key_of as client_key_of
from scrapeshield.ratelimit.escalation import level_key, strike_key
from scrapeshield.settings import Settings
from scrapeshield.store.base import Store
from scrapeshield.store.expiring import Entry, ExpiringIndex
from scrapeshield.store.keys import TRAP_INDEX

# `read_events` gives the newest `limit` events; the stream is trimmed approximately (Redis
# `MAXLEN ~`), so a search asks for more than `event_stream_maxlen` and widens until it has all.
_SEARCH_MARGIN = 1000


def trap_index(store: Store) -> ExpiringIndex:
    """The trap flags (`trap:{<client key>}`) and their index (`TRAP_INDEX`), which the trap
    detector writes with each flag."""
    return ExpiringIndex(store, TRAP_PREFIX, TRAP_INDEX, _flag_until)


def _flag_until(path: str, expiry: float | None) -> float:
    """When a flag ends, as the detector indexed it: when its key expires."""
    return expiry if expiry is not None else time.time()


def _flag(entry: Entry) -> TrapFlag:
    return TrapFlag(entry.subject, entry.value, entry.until)


@dataclass(frozen=True, slots=True)
class TrapFlag:
    client_key: str
    path: str
    until: float

    @property
    def remaining(self) -> float:
        return max(0.0, self.until - time.time())


@dataclass(frozen=True, slots=True)
class Lifted:
    """What `Support.lift` removed for one client key."""

    client_key: str
    ban: bool = False
    trap: bool = False
    escalation: bool = False

    def __bool__(self) -> bool:
        return self.ban or self.trap or self.escalation


class Support:
    """The support operations over the store a site uses (and its settings: key sizes, the
    event stream's length). Needs no Shield: the CLI opens only the store."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings if settings is not None else Settings()

    def client_key(self, target: str) -> str:
        """`client_key_of(target, settings)` with these settings."""
        return client_key_of(target, self.settings)

    async def lift(self, client_key: str, *, forget: bool = False) -> Lifted:
        """Lift the ban and the trap flag of `client_key`; with `forget`, also its escalation
        history (strikes and ban level), so a next throttle does not bring a longer ban."""
        store = self.store
        ban, trap = await asyncio.gather(
            BanList(store).unban(client_key), trap_index(store).lift(client_key)
        )
        escalation = False
        if forget:
            strikes, level = await asyncio.gather(
                store.delete(strike_key(client_key)), store.delete(level_key(client_key))
            )
            escalation = strikes or level
        return Lifted(client_key, ban, trap, escalation)

    async def bans(self, limit: int = LIST_LIMIT) -> list[Ban]:
        """Active bans, soonest to end first, at most `limit` (read from the ban index)."""
        return await BanList(self.store).active(limit)

    async def trap_flags(self, limit: int = LIST_LIMIT) -> list[TrapFlag]:
        """Clients flagged by a trap hit, soonest to expire first, at most `limit` (read from
        the trap-flag index, a page at a time, as bans are)."""
        return [_flag(e) for e in await trap_index(self.store).entries(limit)]

    async def trap_count(self) -> int:
        """How many clients are flagged (more than a listing of `limit` shows)."""
        return await trap_index(self.store).count()

    async def scan_trap_flags(self, limit: int = LIST_LIMIT) -> list[TrapFlag]:
        """The one-off for flags set before the index (`scrapeshield bans --scan`): scan the
        keyspace for them, index each, and return them all, soonest to expire first."""
        return [_flag(e) for e in await trap_index(self.store).scan(limit)]

    async def find_event(self, request_id: str) -> list[dict[str, Any]]:
        """Every block-log event of one request (the id on the block or challenge page), from
        the whole retained event stream; [] when none is kept."""
        wanted = request_id.strip()
        limit = self.settings.event_stream_maxlen + _SEARCH_MARGIN
        while True:
            events = await self.store.read_events(limit=limit)
            if len(events) < limit:
                break
            limit *= 2  # the stream holds more than this settings file says: read it all
        return [e.data for e in events if e.data.get("request_id") == wanted]
