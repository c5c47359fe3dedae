"""The identity detector: the visitor token, originals budgets, issuance, amnesia, pools.

Works on two kinds of request only (everything else costs one cookie lookup):
- **page** navigations (GET, route group `default`, `Sec-Fetch-Dest` document or absent, an
  `Accept` that names text/html, as every browser's navigation does): a
  client without a valid token is issued one, unless its address, network or header fingerprint
  has had its allowance of new tokens this window (`identity/issuance-limited`); the budgets are
  read (a visitor at a budget is challenged on the page, where a person can answer, rather than
  on an image, where a challenge can only refuse), or trusted for a minute while this process
  read them under half (docs/identity.md#trusted-pages);
- **original** fetches (GET in `budgets.route_groups`): the original is counted per visitor
  (the token, or the address without one), per address and per network, hour and day; past a
  budget `budget/<scope>/<period>` (challenge), past `refuse_factor` times it `.../refuse`
  (refused). Without a valid token: `identity/no-token`, and `identity/amnesia` when the address
  was issued more than `amnesia_issued` tokens this window and returned none.
Young identities (no valid token, or one younger than the pool window) are counted per header
fingerprint; more than `rotating_pool.identities` of them: `identity/rotating-pool`.

Every store operation of a request is one script on Redis (`ops.py`), in the request's shared
pipeline; on the MemoryStore nothing waits. `ctx.notes["visitor"]` holds a valid token's id
(rate limits key on it), `ctx.notes["budget_use"]` the largest used/allowed fraction among the
request's budgets (the challenge's difficulty reads it).
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from functools import partial
from typing import Any

from scrapeshield.bans import UNKNOWN_CLIENT
from scrapeshield.detector import Found, Immediate, RequestContext, Sent, settled
from scrapeshield.facts import Facts, client_network
from scrapeshield.identity import ops, shapes, tokenless
from scrapeshield.identity.fingerprint import Fingerprints, header_fingerprint
from scrapeshield.identity.leasing import (
    BUDGET_USE_NOTE,
    OVER_NOTE,
    PLAN_NOTE,
    POOL_NOTE,
    VERIFIED_BOT_NOTE,
    VISITOR_NOTE,
    LeaseHooks,
)
from scrapeshield.identity.plan import (
    VISITOR_KEY,
    Budget,
    Plan,
    lean,
    learned,
    make,
    same,
    spent_key,
)
from scrapeshield.identity.settings import IdentitySettings
from scrapeshield.identity.token import Visitor, VisitorTokens
from scrapeshield.identity.trust import TrustedReads
from scrapeshield.signals import Signal
from scrapeshield.store.keys import subject_key
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore

NO_TOKEN = "identity/no-token"  # noqa: S105 (a signal name)
AMNESIA = "identity/amnesia"
ISSUANCE_LIMITED = tokenless.ISSUANCE_LIMITED
ROTATING_POOL = "identity/rotating-pool"
WEIGHTS = {NO_TOKEN: 20.0, AMNESIA: 15.0, ISSUANCE_LIMITED: 15.0, ROTATING_POOL: 40.0}
"""Defaults, also stated (with the reasons) in policy/default.toml."""
VISITOR_HOUR_REFUSE = "budget/visitor/hour/refuse"
NEWCOMERS_REFUSE = "budget/newcomers/hour/refuse"

_PAGE_DEST = frozenset({"", "document"})
_PERIODS = (("hour", 3600.0), ("day", 86_400.0))
_PLAN_CACHE_SIZE = 8192
"""Plans kept: a page's and an original's for each client whose token is kept (`token.py`,
4,096; the paced mix's 3,000 people hold 6,000 plans); the oldest goes first."""
_TEMPLATES = 256
"""Plan templates kept (`shapes.py`): a few dozen shapes per clock hour at most."""
# A kept plan's fields read by place, not from a `Plan` made first: a page 2.7-2.8k instructions
# less, just over issue 19's 0.5% (docs/log/architecture.md, 2026-12-07)
_SUBJECTS, _LEAN = Plan._fields.index("subjects"), Plan._fields.index("lean")


class IdentityDetector(LeaseHooks, Immediate):
    name = "identity"
    uses_store = True
    replay_signals = frozenset({ISSUANCE_LIMITED})
    """A page without a token while issuance is limited is leased, its signal rebuilt per
    leased request (`tokenless.py`: from the counters in memory, unchanging on Redis)."""

    def __init__(self, settings: IdentitySettings, keys: list[bytes]) -> None:
        self.settings = settings
        self.tokens = VisitorTokens(settings, keys)
        self._originals = frozenset(settings.budgets.route_groups)
        self._budgets = [
            Budget(
                scope,
                period,
                seconds,
                allowed,
                allowed * spec.refuse_factor,
                f"budget/{scope}/{period}",
            )
            for scope, spec in (
                ("visitor", settings.budgets.visitor),
                ("address", settings.budgets.address),
                ("network", settings.budgets.network),
            )
            for period, seconds in _PERIODS
            if settings.budgets.enabled and (allowed := getattr(spec, period)) > 0
        ]
        self._pool = settings.rotating_pool
        # a Redis tokenless page's lease reads its pool here: kept from the first such lease's
        # terms on (leases off, or on the memory store, the evaluations note nothing)
        self._pools: tokenless.Pools | None = None
        self._newcomers = settings.budgets.newcomers if settings.budgets.enabled else 0
        # `Plan`s' fields; oldest out first (an OrderedDict: O(1), docs/store.md)
        self._plans: OrderedDict[tuple[object, ...], tuple[Any, ...]] = OrderedDict()
        self._templates: OrderedDict[tuple[object, ...], shapes.Template] = OrderedDict()
        self._fingerprint = Fingerprints()  # part of a plan's key: read on most pages
        self._previous: OrderedDict[str, int] = OrderedDict()
        """The previous clock hour's counts, by key: an hour's count no longer changes once
        the hour is over, so each is read once per client and hour, not per request (bounded,
        the oldest learned out first)."""
        self._trust = TrustedReads(2 * _PLAN_CACHE_SIZE)  # (a client's ~4 subjects; docs)
        self._visitor_read = any(b.scope == "visitor" for b in self._budgets)
        limits = {
            "address": settings.issuance_per_address,
            "network": settings.issuance_per_network,
            "fingerprint": settings.issuance_per_fingerprint,
        }
        self._issuance = tuple(limits.values())
        # the signal of each set of issuance counts over their limits: made once, not per page
        self._limited = {
            over: Signal(
                ISSUANCE_LIMITED,
                WEIGHTS[ISSUANCE_LIMITED],
                f"new tokens per {settings.window:g}s exceeded by "
                + ", ".join(what for what, o in zip(limits, over, strict=True) if o),
            )
            for over in itertools.product((False, True), repeat=len(limits))
            if any(over)
        }

    def _kind(self, facts: Facts) -> str | None:
        if facts.method != "GET":
            return None
        group = facts.route_group
        if group in self._originals or (facts.route is not None and facts.route.budget):
            return "image"
        headers = facts.headers
        if (
            group == "default"
            and headers.get("sec-fetch-dest", "") in _PAGE_DEST
            and "text/html" in headers.get("accept", "")
        ):
            return "page"  # a navigation that wants HTML: every browser's says so
        return None

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        notes = ctx.notes
        if VERIFIED_BOT_NOTE in notes:
            return ()  # verified crawlers are limited by their own rate-limit group
        visitor = self.tokens.validate(facts) if "cookie" in facts.headers else None
        if visitor is not None:
            notes[VISITOR_NOTE] = visitor.id
        kind = self._kind(facts)
        if kind is None or facts.client_key == UNKNOWN_CLIENT:
            return ()  # without an address, everyone's requests would add up as one client's
        kept = self._kept(facts, kind, visitor)
        store, dry = ctx.store, bool(notes.get("dry_run"))
        subjects = kept[_SUBJECTS]
        use = -1.0 if not subjects or dry else self._trust.trusted(subjects, facts.time)
        if use >= 0:
            notes[BUDGET_USE_NOTE] = use  # a page under half of every budget, read lately:
            kept = kept[_LEAN]  # its plan without the reads (made with the plan)
        notes[PLAN_NOTE] = plan = Plan._make(kept)  # (one `Plan` a request: the one it runs)
        if on_redis(store) and not dry and not store.split:
            then = partial(self._from_reply, facts, ctx, plan)
            return ops.queue_call(store, plan.call, facts.path, then)
        queued = _queued(plan, facts.path)
        if isinstance(store, MemoryStore):
            out = self._signals(facts, ctx, plan, ops.run_now(store, queued, dry))
            if out and (spend := _spend(facts, plan, out)) is not None:
                ops.run_now(store, ops.columns([spend]), dry)
            return out
        if on_redis(store) and not dry:
            return Sent(self._later(facts, ctx, plan, ops.submit(store, queued)))
        return self._later(facts, ctx, plan, ops.run(store, queued, dry))

    async def _later(
        self, facts: Facts, ctx: RequestContext, plan: Plan, reply: Awaitable[Sequence[int]]
    ) -> Sequence[Signal]:
        found = self._from_reply(facts, ctx, plan, await reply)
        return found if settled(found) else await found  # type: ignore[misc]

    def _from_reply(self, facts: Facts, ctx: RequestContext, plan: Plan, reply: Any) -> Found:
        """The signals; awaitable when a refused token's spending must still be written."""
        out = self._signals(facts, ctx, plan, [int(v) for v in reply])
        if out and (spend := _spend(facts, plan, out)) is not None:
            spending = ops.columns([spend])
            return _after(ops.run(ctx.store, spending, bool(ctx.notes.get("dry_run"))), out)
        return out

    def _plan(self, facts: Facts, kind: str, visitor: Visitor | None) -> Plan:
        """The request's plan (`_kept`)."""
        return Plan._make(self._kept(facts, kind, visitor))

    def _kept(self, facts: Facts, kind: str, visitor: Visitor | None) -> tuple[Any, ...]:
        """The request's plan, as the plan cache keeps it: its fields, a `Plan` made from them
        per request (of the plan it runs: a trusted page's is its `lean` one). A plan follows
        from the kind of request, the identity, its network, the clock hour, the counting
        windows it counts in and the header fingerprint alone, so it is made once for all the
        requests that share them (a client's pages in an hour reuse one), with its script call
        on Redis; an original's path is written into its adds per request (`_queued`,
        `ops.queue_call`)."""
        now, pool = facts.time, self._pool
        image = kind == "image"
        hour = int(now // 3600)
        young = visitor is None or now - visitor.issued < pool.window
        fresh = visitor is None or int(visitor.issued // 3600) == hour  # new this clock hour
        needs_fingerprint = (pool.enabled and young) or (image and fresh) or visitor is None
        fingerprint = self._fingerprint(facts.headers) if needs_fingerprint else ""
        key = (  # (the client key fixes the network: an address, or an IPv6 /64 within its /48)
            kind,
            facts.client_key,
            visitor.id if visitor is not None else "",
            visitor.issued if visitor is not None else 0.0,
            hour,
            young,
            # the windows only where the plan counts in them (a young identity's pool; a
            # tokenless one's issuance and amnesia): a visitor's plan outlives their turns
            int(now // pool.window) if pool.enabled and young else -1,
            int(now // self.settings.window) if visitor is None else -1,
            fingerprint,
        )
        kept = self._plans.get(key)
        if kept is None:  # (with a page's plan that may be trusted, its lean one: `lean`)
            plan = self._shaped(facts, kind, visitor, young, fingerprint, key, True, True)
            plans = self._plans
            while len(plans) >= _PLAN_CACHE_SIZE:  # clients choose these: stay bounded
                plans.popitem(last=False)  # (the oldest: remade if its client comes back)
            plans[key] = kept = tuple(plan)  # (plain: untracked, where a `Plan` is not)
        return kept

    def _shaped(
        self,
        facts: Facts,
        kind: str,
        visitor: Visitor | None,
        young: bool,
        fingerprint: str,
        cache_key: tuple[object, ...],
        budgets: bool = True,
        with_lean: bool = False,
    ) -> Plan:
        """The client's plan: its shape's template (made once for every client of the shape)
        with its strings put in (`shapes.py`); made afresh for strings a template cannot take.
        `with_lean`: a page's that may be trusted comes with its plan without the reads
        (`plan.lean`: made with it, from the same strings)."""
        now, strings = facts.time, (facts.client_key, self._network(facts), fingerprint)
        values = (visitor.id if visitor is not None else "", *strings)
        read = self._budgets if budgets else []
        if not shapes.plain(values):
            plan = make(self.settings, read, kind, now, visitor, strings, young, self._previous)
            plan = plan._replace(cache_key=cache_key)
            return plan._replace(lean=tuple(lean(plan))) if with_lean and plan.subjects else plan
        issued = visitor.issued if visitor is not None else -1.0
        shape = (  # all that `make` branches on, but the previous hours known
            kind,
            budgets,
            young,
            visitor is None,
            same(issued, now, 3600.0),
            same(issued, now, 86_400.0),
            int(now // 3600),
            int(now // 86_400),
            int(now // self._pool.window),
            int(now // self.settings.window),
        )
        template = self._template(shape, (), read, kind, now, visitor, young)
        s = template.strings(values)  # (the previous hours' keys first: one `format` a plan)
        previous = self._previous
        known = [previous.get(k, -1) if k else -1 for k in template.previous(s)]
        if any(k >= 0 for k in known):  # (then read no more: a template of its own, same `s`)
            mask = tuple(k >= 0 for k in known)
            template = self._template(shape, mask, read, kind, now, visitor, young, template)
        return template.fill(s, [max(k, 0) for k in known], cache_key, with_lean)

    def _template(
        self,
        shape: tuple[object, ...],
        mask: tuple[bool, ...],
        read: Sequence[Budget],
        kind: str,
        now: float,
        visitor: Visitor | None,
        young: bool,
        base: shapes.Template | None = None,
    ) -> shapes.Template:
        """The template of a shape, with the previous hours `mask` marks as known (their
        counts put in per request; `read` the budgets it reads, as the shape says); made at the
        shape's first request, the oldest dropped."""
        key = (shape, mask)
        found = self._templates.get(key)
        if found is None:
            marked = Visitor(shapes.VISITOR, visitor.issued) if visitor is not None else None
            counts = dict.fromkeys(
                [k for k, m in zip(base.prev_keys, mask, strict=True) if m] if base else [], 0
            )
            strings = (shapes.CLIENT, shapes.NETWORK, shapes.FINGERPRINT)
            plan = make(self.settings, read, kind, now, marked, strings, young, counts)
            found = shapes.Template(plan, base)
            if len(self._templates) >= _TEMPLATES:  # (a few per window: bounded all the same)
                self._templates.popitem(last=False)
            self._templates[key] = found
        return found

    def _signals(
        self, facts: Facts, ctx: RequestContext, plan: Plan, results: Sequence[int]
    ) -> list[Signal]:
        s, image = self.settings, plan.kind == "image"
        out: list[Signal] = []
        use = 0.0
        uses: dict[str, float] = {}  # by subject
        weight = 1.0 - (facts.time % 3600.0) / 3600.0  # of the previous clock hour
        owners = plan.owners
        for i, at, prev, known, spent, mark, own in plan.reads:
            b, count = self._budgets[i], results[at]
            # a sliding hour: a session across the hour gets no fresh budget
            if prev >= 0:
                count += round(results[prev] * weight)
            elif known:
                count += round(known * weight)
            if spent >= 0:  # each token this address and browser build was refused with
                count += results[spent] * math.ceil(b.refuse_above or b.allowed)  # this hour
            share = count / b.allowed
            if share > use:
                use = share
            for o in own:  # (a union's use is noted for both its subjects: no less)
                if share > uses.get(subject := owners[o], -1.0):
                    uses[subject] = share
            if count <= mark:  # (an original: over its budget; a page view: at it)
                continue
            if image and b.refuse_above and count > b.refuse_above:
                detail = f"{count} originals this {b.period}, refused above {b.refuse_above:g}"
                out.append(Signal(b.name + "/refuse", 0.0, detail))
            else:
                detail = f"{count} originals this {b.period} of {b.allowed}"
                out.append(Signal(b.name, 0.0, detail))
        if plan.reads:
            ctx.notes[BUDGET_USE_NOTE] = round(use, 3)
            if not ctx.notes.get("dry_run"):
                self._trust.note(uses, facts.time)
        if plan.learns:
            self._learn(plan, results)
        if plan.newcomers_at >= 0 and (count := results[plan.newcomers_at]) > self._newcomers:
            detail = (f"{count} originals this hour by new identities of this network and "
                      f"browser build, refused above {self._newcomers}")  # fmt: skip
            out.append(Signal(NEWCOMERS_REFUSE, 0.0, detail))
        at = plan.rest_at
        if plan.pool:
            seen = results[at]
            at += 1
            ctx.notes[POOL_NOTE] = seen  # (a page's lease reads it; on Redis, `_pools`)
            if self._pools is not None:
                self._pools.note(plan.ops[1][plan.rest_at], seen)
            if seen > self._pool.identities:
                detail = f"{seen} new identities with these headers in {self._pool.window:g}s"
                out.append(Signal(ROTATING_POOL, WEIGHTS[ROTATING_POOL], detail))
        if plan.issuance:
            by_address, by_network, by_fingerprint = results[at : at + 3]
            at += 3
            address, network, fingerprint = self._issuance
            over = (by_address > address, by_network > network, by_fingerprint > fingerprint)
            if limited := self._limited.get(over):
                out.append(limited)
                if self._pools is not None:  # (a Redis lease reads it)
                    ctx.notes[OVER_NOTE] = over
            elif not ctx.notes.get("dry_run"):  # with the page only (not a refusal)
                ident, header = self.tokens.issued(facts)
                ctx.app_headers = [*(ctx.app_headers or ()), header]
                if self._visitor_read:  # no original can name a token before it exists: its
                    # budgets are 0 now, as a read here would say (docs: trusted pages)
                    self._trust.note({subject_key(VISITOR_KEY, ident, ":"): 0.0}, facts.time)
        if image and not plan.visitor:
            out.append(Signal(NO_TOKEN, WEIGHTS[NO_TOKEN], "no valid visitor token"))
        if plan.amnesia:
            issued, returned = results[at : at + 2]
            if issued > s.amnesia_issued and not returned:
                detail = f"{issued} tokens issued to this address in {s.window:g}s, none returned"
                out.append(Signal(AMNESIA, WEIGHTS[AMNESIA], detail))
        return out

    def _learn(self, plan: Plan, results: Sequence[int]) -> None:
        """Keep the previous hour's counts this request read (bounded: clients choose these
        keys), and keep its plan as the plan with them known (`learned`), which reads them no
        more: the client's next request makes no plan (it made one again)."""
        previous = self._previous
        for key, at in zip(plan.prev_keys, plan.prev_at, strict=True):
            if at >= 0:
                previous[key] = results[at]
        while len(previous) > 2 * _PLAN_CACHE_SIZE:  # (a client's ~4 hourly keys)
            previous.popitem(last=False)  # (not emptied: then every client read them again)
        if plan.cache_key in self._plans:  # (not if its client's plan went meanwhile)
            self._plans[plan.cache_key] = tuple(learned(plan, results))

    def _network(self, facts: Facts) -> str:
        """The client's /24 (IPv4) or /48 (IPv6): the key of network budgets and issuance
        (made once per address by `facts.client_network`, not masked per request)."""
        address, s = facts.client_ip, self.settings
        if address is None:
            return facts.client_key
        return client_network(address, s.network_ipv4_prefix, s.network_ipv6_prefix)


def _queued(plan: Plan, path: str) -> ops.Ops:
    """The plan's operations with this request's path in the adds that take it."""
    if not plan.path_at:
        return plan.ops
    codes, keys, given, ttls = plan.ops
    members = list(given)
    for at in plan.path_at:
        members[at] = path
    return codes, keys, tuple(members), ttls


def _spend(facts: Facts, plan: Plan, out: Sequence[Signal]) -> ops.Op | None:
    """The write that remembers a token refused at its hourly budget, or None."""
    if not plan.visitor or not any(s.name == VISITOR_HOUR_REFUSE for s in out):
        return None
    key = spent_key(facts.client_key, header_fingerprint(facts.headers), facts.time)
    return ("A", key, plan.visitor, 3600.0)


async def _after(write: Awaitable[object], out: list[Signal]) -> list[Signal]:
    await write
    return out
