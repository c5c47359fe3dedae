"""Identity's lease hooks (docs/leases.md): which of its requests a lease may skip, and how.

A mixin of `IdentityDetector` (kept apart so the detector has room): kinds it does nothing for
but read the visitor token are leased until the token expires; a page of a visitor with a token
while under half of every budget and of the pool; a page without a token while issuance is
limited, its signal replayed (`tokenless.py`). Originals count, and are never leased.
"""

from __future__ import annotations

from scrapeshield.bans import UNKNOWN_CLIENT
from scrapeshield.detector import RequestContext, replayed_names
from scrapeshield.facts import Facts
from scrapeshield.identity import tokenless
from scrapeshield.identity.plan import Plan
from scrapeshield.identity.settings import IdentitySettings, RotatingPoolSettings
from scrapeshield.identity.token import Visitor, VisitorTokens
from scrapeshield.lease.protocol import UNLIMITED, Terms
from scrapeshield.signals import Signal
from scrapeshield.store.memory import MemoryStore

ISSUANCE_LIMITED = tokenless.ISSUANCE_LIMITED
VISITOR_NOTE = "visitor"
BUDGET_USE_NOTE = "budget_use"
VERIFIED_BOT_NOTE = "verified_bot"  # ratelimit.settings.VERIFIED_BOT_NOTE (a defence of its own)
PLAN_NOTE = "identity_plan"  # the request's plan (a page's lease reads it)
POOL_NOTE = "identity_pool"  # the young identities this request's pool counted
OVER_NOTE = "identity_over"  # which issuance counters this page took past their limits
NEVER = 1 << 30
# (no state: `lease_use` has nothing to write; only a tokenless page's lease has: `tokenless`)
_STEADY = Terms(UNLIMITED, steady=True, uses=False)


class LeaseHooks:
    """`IdentityDetector`'s lease methods; what they read of the detector is declared here."""

    settings: IdentitySettings
    tokens: VisitorTokens
    _pool: RotatingPoolSettings
    _pools: tokenless.Pools | None
    _issuance: tuple[int, ...]
    _limited: dict[tuple[bool, ...], Signal]

    def _kind(self, facts: Facts) -> str | None:
        raise NotImplementedError

    def _plan(self, facts: Facts, kind: str, visitor: Visitor | None) -> Plan:
        raise NotImplementedError

    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None:
        """Kinds it does nothing for but read the visitor token (bound: its cookie):
        unlimited until the token expires. A page of a visitor with a token that is neither
        issued: its budgets are only read and a young one's pool entry is a set member that
        repeats add nothing to, so unlimited too, while under half of every budget and of
        the pool's threshold are used; originals count, and state none."""
        kind = self._kind(facts) if facts.client_key != UNKNOWN_CLIENT else None
        if kind is not None and kind != "page":  # (before the token's check: no work)
            return None
        visitor = self.tokens.validate(facts) if VISITOR_NOTE in ctx.notes else None
        if kind is not None:
            if visitor is None and ISSUANCE_LIMITED in (replayed_names(ctx) or ()):
                return self._tokenless(facts, ctx)
            if visitor is None or VERIFIED_BOT_NOTE in ctx.notes:
                return None
            plan = ctx.notes.get(PLAN_NOTE) or self._plan(facts, kind, visitor)
            if plan.issuance or ctx.notes.get(BUDGET_USE_NOTE, 1.0) >= 0.5:
                return None
            # a young token's page adds it to its fingerprint's pool: a set, so its repeats
            # change nothing; leased while the pool is under half its threshold
            if plan.pool and 2 * ctx.notes.get(POOL_NOTE, NEVER) > self._pool.identities:
                return None
        if visitor is None:  # (so not a page)
            return _STEADY
        # steady but for a page, whose budgets are read: an original may move them
        until = visitor.issued + self.settings.max_age
        return Terms(UNLIMITED, until, steady=kind is None, uses=False)

    def _tokenless(self, facts: Facts, ctx: RequestContext) -> Terms | None:
        """A page without a token while issuance is limited (this request signalled it):
        leased with its signal replayed while under half of every budget (`tokenless.py`)."""
        notes, store = ctx.notes, ctx.store
        plan: Plan | None = notes.get(PLAN_NOTE)
        use: float = notes.get(BUDGET_USE_NOTE, 1.0)
        if plan is None or not plan.issuance or VERIFIED_BOT_NOTE in notes or use >= 0.5:
            return None
        if self._pools is None and not isinstance(store, MemoryStore):
            self._pools = tokenless.Pools()  # (noted from the next evaluation on)
        window, seen = self.settings.window, (notes.get(OVER_NOTE), notes.get(POOL_NOTE, 0))
        limits, pools = self._issuance, self._pools
        return tokenless.terms(
            plan, store, facts.time, window, limits, self._pool, seen, self._limited, pools
        )

    # a tokenless page's signal, rebuilt by a plain function from its state (the detector's
    # signals and pools are handed to it at the grant: `terms`), a frame less than a method;
    # and its writes: at once in memory, handed over later on Redis (`tokenless`)
    lease_replay = staticmethod(tokenless.lease_replay)
    lease_use = staticmethod(tokenless.lease_use)
    lease_settle = staticmethod(tokenless.lease_settle)
    lease_flush = staticmethod(tokenless.lease_flush)

    def lease_keeps(self, state: object, facts: Facts, ctx: RequestContext) -> bool:
        """After another request of the client's network: a page's lease held while under half
        of every budget and of the pool; an original there (`ctx`: its notes) may move them."""
        use: float = ctx.notes.get(BUDGET_USE_NOTE, 0.0)
        return use < 0.5 and 2 * ctx.notes.get(POOL_NOTE, 0) <= self._pool.identities
