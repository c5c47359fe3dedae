"""The rate-limit detector: one limiter call per request, signals for the policy, headers.

Signals are named `ratelimit/<group>/<scope>` (scope: client, network, user or visitor). A
group whose `action` is `block` or `challenge` appends it (`ratelimit/<group>/<scope>/block`),
which the default policy maps before its catch-all `ratelimit/*` -> throttle rule. When
escalation bans the client in this request, an `escalation/ban` signal is added (the default
policy's `escalation/ban` rule blocks it; afterwards the ban phase does). In dry run
(`ctx.notes["dry_run"]`, used by
`scrapeshield explain`) nothing is hit and no strike is counted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from scrapeshield.detector import Found, Immediate, RequestContext, Sent, settled
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import RESERVE_MORE_NOTE, RESERVE_NOTE, Record, Terms
from scrapeshield.ratelimit import leasing
from scrapeshield.ratelimit.backends import (
    Limiter,
    LimitsMemoryLimiter,
    Outcome,
    RedisLimiter,
    ban_in_reply,
)
from scrapeshield.ratelimit.escalation import Escalation
from scrapeshield.ratelimit.headers import add_rate_limit_headers
from scrapeshield.ratelimit.memory import NativeMemoryLimiter
from scrapeshield.ratelimit.plan import Keys, Planner, Rules
from scrapeshield.ratelimit.settings import VERIFIED_BOT_NOTE, RateLimitSettings
from scrapeshield.signals import Signal
from scrapeshield.store.base import Store
from scrapeshield.store.kind import on_redis

PLAN_NOTE = "ratelimit"
"""`ctx.notes` key holding the request's group and the outcome, for other stages and `explain`."""


class RateLimitDetector(Immediate):
    name = "ratelimit"
    uses_store = True

    def __init__(
        self,
        settings: RateLimitSettings,
        *,
        max_keys: int = 100_000,
        monitor: bool = False,
        lease_requests: int = 8,
    ) -> None:
        self.settings = settings
        self.max_keys = max_keys
        self.monitor = monitor  # monitor mode: report the ban escalation would write, write none
        self._margin = leasing.reserve_margin(lease_requests)  # room a reservation leaves
        self.planner = Planner(settings)
        self.escalation = Escalation(settings.escalation)
        self._strike_window = self.escalation.window
        self._headers, self._legacy = settings.headers, settings.legacy_headers
        self._limiters: dict[int, tuple[Store, Limiter]] = {}
        # The shield's store, its limiter, and that limiter if it counts without awaiting.
        self._last: tuple[Store, Limiter, NativeMemoryLimiter | None] | None = None

    def limiter(self, store: Store) -> Limiter:
        """One limiter per store (the shield has one store; tests may pass several)."""
        return self._last_for(store)[1]

    def _last_for(self, store: Store) -> tuple[Store, Limiter, NativeMemoryLimiter | None]:
        last = self._last
        if last is not None and last[0] is store:
            return last
        entry = self._limiters.get(id(store))
        if entry is None or entry[0] is not store:
            entry = (store, self._limiter_for(store))
            self._limiters[id(store)] = entry
        limiter = entry[1]
        now = limiter if isinstance(limiter, NativeMemoryLimiter) and limiter.synchronous else None
        self._last = last = (store, limiter, now)
        return last

    def _limiter_for(self, store: Store) -> Limiter:
        if on_redis(store):
            return RedisLimiter(store)
        if self.settings.memory_backend == "limits":
            return LimitsMemoryLimiter(store)
        return NativeMemoryLimiter(store, max_keys=self.max_keys)

    # -- leases (docs/leases.md; ratelimit/leasing.py) -----------------------------------------

    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None:
        """Only where a reservation and its give-back are counted before the next request's
        hit: the native limiter in memory (at once), one Redis server (in the same pipeline);
        not the `limits` backend's coroutines, nor a spreading Cluster's split calls."""
        _, limiter, now = self._last_for(ctx.store)
        if now is not None or (isinstance(limiter, RedisLimiter) and not limiter.store.split):
            return leasing.terms(self.planner, facts, ctx, self._margin, self._headers)
        return None

    def lease_reserve(
        self, granted: leasing.Granted, count: int, store: Store
    ) -> Awaitable[bool] | bool | None:
        """The lease's whole cost counted now, its unused part given back at the settle: in
        memory at once (True: counted), on Redis queued (every worker sees it)."""
        _, limiter, now = self._last_for(store)
        if now is not None:
            return leasing.reserve_now(now, granted, count)
        if isinstance(limiter, RedisLimiter):
            return leasing.reserve(limiter, granted, count)
        return None

    def lease_covers(self, granted: leasing.Granted, facts: Facts) -> bool:
        return leasing.covers(self.planner, granted, facts)

    def lease_keeps(self, granted: leasing.Granted, facts: Facts, ctx: RequestContext) -> bool:
        return leasing.keeps(granted, facts, ctx)

    def lease_use(
        self, granted: leasing.Granted, facts: Facts, ctx: RequestContext, used: int
    ) -> None:
        leasing.use(self._legacy if self._headers else None, granted, facts, ctx, used)

    def lease_settle(
        self, granted: leasing.Granted, records: Sequence[Record], store: Store
    ) -> Awaitable[Any] | None:
        return leasing.settle(self.limiter(store), self._strike_window, granted, records)

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        plan = self.planner.plan(facts, ctx.notes)
        if plan is None:
            return ()
        rules, keys = plan
        cost = rules.cost
        last = self._last
        if last is None or last[0] is not ctx.store:
            last = self._last_for(ctx.store)
        limiter = last[2]
        if limiter is None:
            other, dry = last[1], bool(ctx.notes.get("dry_run"))
            client, window = facts.client_key, self._strike_window
            if isinstance(other, RedisLimiter):  # the script queued now: no task for it
                if not other.store.split:  # its reply read when the batch settles
                    count = ctx.notes.get(RESERVE_NOTE)
                    if count and not dry:  # a lease likely follows: reserved along
                        then_ = partial(self._reserving, other, rules, keys, facts, ctx)
                        # (a grown lease's: leaving RESERVE_FACTOR times its own size)
                        margin = max(self._margin, leasing.RESERVE_FACTOR * count)
                        room = (count * cost, margin * cost)
                        soon, more = other.queue_reserving(
                            rules, keys, cost, client, window, room, then_, leasing.RESERVE_FACTOR
                        )
                        ctx.notes[RESERVE_MORE_NOTE] = partial(_more, more, cost)
                    else:
                        then = partial(self._judged, rules, facts, ctx)
                        soon = other.queue(rules, keys, cost, client, window, dry, then)
                    # the script reads the client's ban: the ban phase takes it from its reply
                    ctx.ban_read = soon.derived(partial(ban_in_reply, client))
                    return soon
                hit = other.hit_soon(rules, keys, cost, client, window, dry)
                return Sent(self._detect(rules, facts, ctx, hit))
            hit = other.hit(rules, keys, cost, client, window, dry)
            return self._detect(rules, facts, ctx, hit)
        # On the MemoryStore: no coroutine, and the ban phase's answer is not read again.
        outcome = limiter.hit_now(
            rules,
            keys,
            cost,
            facts.client_key,
            self._strike_window,
            bool(ctx.notes.get("dry_run")),
            ctx.banned,
        )
        self._report(rules, outcome, ctx)
        if outcome.rejected is None:
            return ()
        return self._signals(rules, outcome, facts, ctx)

    async def _detect(
        self, rules: Rules, facts: Facts, ctx: RequestContext, hit: Awaitable[Outcome]
    ) -> Sequence[Signal]:
        found = self._judged(rules, facts, ctx, await hit)
        return found if settled(found) else await found  # type: ignore[misc]

    def _reserving(
        self,
        limiter: RedisLimiter,
        rules: Rules,
        keys: Keys,
        facts: Facts,
        ctx: RequestContext,
        outcome: Outcome,
        units: int,
        at: int,
    ) -> Found:
        """`_judged`, the reservation the hit made along kept for the lease (`leasing.held`)."""
        if units:
            leasing.held(limiter, rules, keys, facts, ctx, outcome, units, at)
        return self._judged(rules, facts, ctx, outcome)

    def _judged(self, rules: Rules, facts: Facts, ctx: RequestContext, outcome: Outcome) -> Found:
        """The signals of a hit's outcome (awaitable when escalation must write a ban)."""
        self._report(rules, outcome, ctx)
        if outcome.rejected is None:
            return ()
        return self._signals(rules, outcome, facts, ctx)

    def _report(self, rules: Rules, outcome: Outcome, ctx: RequestContext) -> None:
        """The outcome for other stages and `explain`, and the RateLimit response fields (on
        groups with `headers`: elsewhere they would tell a scraper how fast it may go)."""
        ctx.notes[PLAN_NOTE] = {"group": rules.group, "outcome": outcome}
        if self._headers and rules.headers:
            add_rate_limit_headers(
                ctx.response_headers, rules.policy_header, outcome, legacy=self._legacy
            )

    def _signals(self, rules: Rules, outcome: Outcome, facts: Facts, ctx: RequestContext) -> Found:
        """A rejected request's signals; awaitable when escalation must write a ban."""
        rejected = outcome.rejected
        assert rejected is not None
        lim = rejected.limit
        name = f"ratelimit/{rules.group}/{lim.scope}"
        if rules.action != "throttle":
            name += f"/{rules.action}"
        detail = f"{lim.quota} per {lim.window}s ({lim.strategy}) exceeded, cost {rules.cost}"
        signal = Signal(name, 0.0, detail, retry_after=rejected.reset)
        verified = bool(ctx.notes.get(VERIFIED_BOT_NOTE))  # throttled, never banned
        if verified or not self.escalation.due(outcome.strikes):
            return (signal,)
        if self.monitor:
            duration = self.escalation.duration(1)
            return (signal, Signal("escalation/ban", 0.0, f"would ban: {detail}", duration))
        return self._escalate(signal, facts, ctx, detail)

    async def _escalate(
        self, signal: Signal, facts: Facts, ctx: RequestContext, detail: str
    ) -> Sequence[Signal]:
        ban = await self.escalation.ban(ctx.store, facts.client_key, detail)
        return (
            signal,
            Signal("escalation/ban", 0.0, ban.reason, retry_after=ban.until - ban.created),
        )


def _more(more: Callable[[int], bool], cost: int, count: int) -> bool:
    """`count` more requests reserved along, while the hit is still queued."""
    return more(count * cost)
