"""fail2ban-style escalation: repeated throttling of one client becomes a ban.

Strikes are counted by the limiter itself (in the same Lua call on Redis), so escalation costs no
extra round trip until a ban is due. The n-th ban within `forget_after` lasts
`ban * factor**(n-1)`, capped at `max_ban`. The ban is written with the shield's `BanList`
(store key `ban:<client_key>`), so the ban phase enforces it for every worker sharing the store.
"""

from __future__ import annotations

import math

from scrapeshield.bans import Ban, BanList
from scrapeshield.ratelimit.settings import EscalationSpec
from scrapeshield.store.base import Store
from scrapeshield.store.keys import subject_key

RULE = "escalation/ban"
STRIKE_PREFIX = "rl:strikes:"
LEVEL_PREFIX = "rl:bans:"


def strike_key(client_key: str) -> str:
    """`rl:strikes:{<client key>}`: in the client's Cluster slot, with its counters and ban."""
    return subject_key(STRIKE_PREFIX, client_key)


def level_key(client_key: str) -> str:
    """`rl:bans:{<client key>}`: how many bans the client had within `forget_after`."""
    return subject_key(LEVEL_PREFIX, client_key)


class Escalation:
    def __init__(self, spec: EscalationSpec) -> None:
        self.spec = spec

    @property
    def window(self) -> float:
        return self.spec.window if self.spec.enabled else 0.0

    def due(self, strikes: int) -> bool:
        return self.spec.enabled and strikes >= self.spec.throttles

    def duration(self, level: int) -> float:
        spec = self.spec
        exponent = max(0, level - 1)
        # factor**exponent can overflow for a large level: cap before multiplying.
        if spec.factor > 1 and exponent * _log(spec.factor) > _log(spec.max_ban / spec.ban):
            return spec.max_ban
        return float(min(spec.max_ban, spec.ban * spec.factor**exponent))

    async def ban(self, store: Store, client_key: str, detail: str) -> Ban:
        level = await store.incr(level_key(client_key), 1, ttl=self.spec.forget_after)
        duration = self.duration(level)
        await store.delete(strike_key(client_key))
        return await BanList(store).ban(
            client_key, duration, reason=f"ban #{level}: {detail}", rule=RULE
        )


def _log(value: float) -> float:
    return math.log(value) if value > 0 else float("-inf")
