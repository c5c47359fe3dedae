"""The rate limiter's part in leases (docs/leases.md): its headroom, its response fields per
leased request, and the deferred requests counted in one hit of their summed cost."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import UNLIMITED, Record, Terms
from scrapeshield.ratelimit.backends import Limiter, LimitState, Outcome, RedisLimiter
from scrapeshield.ratelimit.headers import add_rate_limit_headers
from scrapeshield.ratelimit.memory import NativeMemoryLimiter
from scrapeshield.ratelimit.plan import Plan, Planner

_NO_NOTES: dict[str, object] = {}


class Granted:
    """What a lease of one client's plan needs: the plan, the states the granting request's
    hit found (remaining after it, reset), and when it was granted."""

    __slots__ = ("at", "client_key", "group", "plan", "states")

    def __init__(
        self,
        group: str | None,
        plan: Plan | None,
        states: tuple[LimitState, ...],
        at: float,
        client_key: str,
    ) -> None:
        self.group, self.plan, self.states, self.at = group, plan, states, at
        self.client_key = client_key


def terms(planner: Planner, facts: Facts, ctx: RequestContext) -> Terms | None:
    """Headroom: the requests of this plan's cost that still fit in every limit."""
    group = planner.group_for(facts, ctx.notes)
    note = ctx.notes.get("ratelimit")
    if note is None:  # exempt (no plan): nothing to count
        return Terms(UNLIMITED, None, Granted(group, None, (), facts.time, facts.client_key))
    outcome: Outcome = note["outcome"]
    plan = planner.plan(facts, ctx.notes)
    if outcome.rejected is not None or plan is None:
        return None
    states = outcome.states
    headroom = min(state.remaining // plan.cost for state in states)
    until = facts.time + min(state.reset for state in states)  # a window rolls: counted again
    granted = Granted(plan.group, plan, states, facts.time, facts.client_key)
    return Terms(headroom, until, granted)


def covers(planner: Planner, granted: Granted, facts: Facts) -> bool:
    """The request's path falls in the granted group (groups may match paths)."""
    return planner.group_for(facts, _NO_NOTES) == granted.group


def use(
    legacy: bool | None, granted: Granted, facts: Facts, ctx: RequestContext, used: int
) -> None:
    """The RateLimit fields as the hit would have set them: remaining less `used` costs
    (`legacy`: the X-RateLimit fields too; None: no fields at all)."""
    plan = granted.plan
    if plan is None or legacy is None or not plan.headers:
        return
    spent, elapsed = used * plan.cost, facts.time - granted.at
    states = tuple(
        LimitState(s.limit, s.remaining - spent, max(0.0, s.reset - elapsed))
        for s in granted.states
    )
    add_rate_limit_headers(
        ctx.response_headers,
        plan.policy_header,
        Outcome(states, None, 0),
        legacy=legacy,
    )


def settle(
    limiter: Limiter, window: float, granted: Granted, records: Sequence[Record]
) -> Awaitable[Any] | None:
    """One hit of the deferred requests' summed cost (on Redis queued: the next round trip)."""
    plan = granted.plan
    if plan is None:
        return None
    cost, key = plan.cost * len(records), granted.client_key
    if isinstance(limiter, NativeMemoryLimiter) and limiter.synchronous:
        limiter.hit_now(plan.limits, cost, key, window, False)
        return None
    if isinstance(limiter, RedisLimiter) and not limiter.store.split:
        return limiter.queue(plan.limits, cost, key, window, False, _ignored)
    return limiter.hit(plan.limits, cost, key, window, False)


def _ignored(outcome: Outcome) -> None:
    return None
