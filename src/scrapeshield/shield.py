"""The decision pipeline, independent of ASGI plumbing, so the middleware and `explain` share it.

    Facts ─► safelist ─► blocklist ─► first-party credential? ─► CORS preflight? ─►
        ban ─► signals ─► policy ─► Decision

A request with a valid first-party credential, or a CORS preflight, is decided on a subset of the
detectors (the rate limiter alone; the user agent alone), and is never challenged.

Directive endpoints (robots.txt...) are answered by the middleware before this pipeline runs.
The ban check and every store-using detector are awaited together, so with the Redis store
their commands leave in one coalesced pipeline: one round trip per request, awaited once (the
tick's batch: store/soon.py), the ban taken from the rate limiter's reply when it read it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.types import ASGIApp

from scrapeshield.bans import Ban, BanList
from scrapeshield.blocklog import BlockLog
from scrapeshield.challenge.core import Challenge
from scrapeshield.challenge.detector import PassDetector
from scrapeshield.challenge.endpoint import ChallengeEndpoint
from scrapeshield.credentials.verify import Credentials
from scrapeshield.decisionlog import DecisionLog, LogObserver
from scrapeshield.defences import Detector, RequestContext, build_detectors
from scrapeshield.detection import Plans, detect, drain, runs_for, start_early
from scrapeshield.detector import UNSTEADY_NOTE
from scrapeshield.deterrents.paycrawl import PayPerCrawl
from scrapeshield.directives.base import Endpoint, index_endpoints
from scrapeshield.directives.build import build_endpoints, build_response_filters
from scrapeshield.errors import StoreError, StoreUnavailable
from scrapeshield.evidence.recorder import Evidence
from scrapeshield.evidence.served import ROBOTS_EVENT, ROBOTS_RULE
from scrapeshield.facts import Facts, FactsBuilder
from scrapeshield.lease.table import WAITED_NOTE, open_leases
from scrapeshield.metrics.setup import open_metrics
from scrapeshield.pages.site import Pages
from scrapeshield.policy import Policy, Verdict
from scrapeshield.responding import ActionHandler, EventNamer, Responses
from scrapeshield.rules import RuleList
from scrapeshield.settings import Settings
from scrapeshield.signals import Action, Decision, Signal
from scrapeshield.store import Store, open_store
from scrapeshield.store.kind import on_redis
from scrapeshield.support import Support, client_key_of
from scrapeshield.synthetic import synthetic_scope as synthetic_scope  # its old home
from scrapeshield.waivers import (
    FIRST_PARTY_DETECTORS,
    FIRST_PARTY_PREFIX,
    HEALTH_RULE,
    ON_CHALLENGE_NOTE,
    PREFLIGHT_DETECTORS,
    PREFLIGHT_RULE,
    is_preflight,
    named,
    unchallenged,
)

if TYPE_CHECKING:
    from scrapeshield.metrics.core import Metrics

logger = logging.getLogger("scrapeshield")

# Module globals, not Action.X (an enum member read through its class): 3.0-3.7k instructions
# a request less (0.6-0.7%; docs/log/architecture.md, 2026-12-07)
_ALLOW, _CHALLENGE = Action.ALLOW, Action.CHALLENGE
NO_DECOY_PREFIX = "no-decoy/"  # a decoy verdict off the image routes, made a block
BUDGET_USE = "budget_use"
"""`ctx.notes` key: the largest used/allowed fraction among the request's budgets (identity)."""


class Shield:
    """Everything compiled from settings once; `decide` runs the per-request pipeline."""

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None) -> None:
        self.settings = settings if settings is not None else Settings()
        self.store: Store = store if store is not None else open_store(self.settings)
        self.facts_builder = FactsBuilder(self.settings)
        self.safelist = RuleList(self.settings.safelist)
        self.blocklist = RuleList(self.settings.blocklist)
        self.policy = Policy(self.settings.policy)
        self._no_signals = self.policy.evaluate(())  # most requests: one verdict, made once
        self.bans = BanList(self.store)
        # On Redis the ban is read with the detectors' commands (after them: the rate
        # limiter's script reads it too, and then it is taken from its reply); elsewhere first,
        # so that the limiter need not read it again.
        self._ban_last = on_redis(self.store)
        self.blocklog = BlockLog(self.store, level=self.settings.blocklog_level)
        self.detectors: list[Detector] = build_detectors(self.settings)
        self.endpoints: list[Endpoint] = build_endpoints(self.settings)
        self.response_filters = build_response_filters(self.settings)
        pay = self.settings.pay_per_crawl
        self.pay_per_crawl = PayPerCrawl(pay) if pay.enabled else None
        self._endpoint_index = index_endpoints(self.endpoints)
        self.evidence = Evidence(self.settings, self.store, self.endpoints, self.blocklog.level)
        self.served = self.evidence.served  # the middleware asks whether crawlers are sampled
        self.action_handlers: dict[Action, ActionHandler] = {}
        self.decision_log = DecisionLog(self.blocklog, self.evidence)
        # Names the block-log event of a decision by action (e.g. `challenge/issued`).
        self.log_events: dict[Action, EventNamer] = self.decision_log.events
        # Told of every block-log event by name (the metrics count challenges with it).
        self.log_observers: list[LogObserver] = self.decision_log.observers
        self.enforcing = self.settings.mode == "enforce"
        self.pages = Pages(
            self.settings.pages,
            site_name=self.settings.site_name,
            terms_url=self.settings.terms_url,
        )
        self.responses = Responses(self.settings, self.pages, self.action_handlers)
        self.challenge = self._install_challenge() if self.settings.challenge.enabled else None
        self.decoy, self.tarpit = self.responses.install_deterrents(
            self.policy.challenge_score, self.log_events
        )
        self._listing = bool(self.safelist or self.blocklist)  # most sites list nothing
        self.health_paths = frozenset(self.settings.health_paths)
        self.credentials = Credentials(self.settings.credentials)
        # None when no credential is configured: one identity test per request, not a call.
        self._first_valid = self.credentials.first_valid if self.credentials else None
        self._on_challenge = {
            group.name: group.on_challenge
            for group in self.settings.route_groups
            if group.on_challenge != "challenge"
        }
        self._plans = Plans([])  # the detectors per kind of request, built at the first
        self._first_party_runs = runs_for(named(self.detectors, FIRST_PARTY_DETECTORS))
        self._preflight_runs = runs_for(named(self.detectors, PREFLIGHT_DETECTORS))
        rl, evaluate = self.settings.ratelimit, self.policy.evaluate  # leases: off, None
        self.leases = open_leases(self.settings.lease, self.store, rl.network_prefixes, evaluate)
        self.metrics: Metrics | None = None  # off by default: then nothing of it runs per request
        if self.settings.metrics.enabled:
            self.metrics = open_metrics(self.settings, self.store, self.blocklog)
            self.log_observers.append(self.metrics.on_event)

    def _install_challenge(self) -> Challenge:
        """The challenge action: its pass detector, its endpoint, its page and its log events."""
        challenge = Challenge(
            self.settings,
            self.store,
            threshold=self.policy.challenge_score,
            log=self.log,
            enforcing=self.enforcing,
            pages=self.pages,
        )
        self.detectors.append(PassDetector(challenge))
        self.endpoints.append(ChallengeEndpoint(challenge))
        self.action_handlers[Action.CHALLENGE] = challenge.respond
        self.log_events[Action.CHALLENGE] = challenge.event_for
        return challenge

    # -- per request ----------------------------------------------------------------------------

    def facts(self, scope: Any) -> Facts:
        return self.facts_builder.build(scope)

    def bind_routes(self, routes: Any) -> None:
        """Read per-route marks from a Starlette/FastAPI route list (`app.routes`), once; a
        mark naming an unknown group, or `[routes.<name>]` naming no route, raises
        `ConfigurationError`. The middleware calls this with the app it wraps."""
        self.facts_builder.bind_routes(routes)

    def endpoint_for(self, facts: Facts) -> Endpoint | None:
        endpoints = self.endpoints
        index = self._endpoint_index
        if index[0] != endpoints:  # the list was changed (a C-level, identity-first compare)
            index = self._endpoint_index = index_endpoints(endpoints)
        if index[1] is not None and facts.path not in index[1]:
            return None  # most requests: no endpoint's path
        for endpoint in endpoints:
            if endpoint.matches(facts):
                return endpoint
        return None

    def health_decision(self) -> Decision:
        """The decision attached to a request for one of `health_paths`, which the middleware
        passes to the app before anything else runs (an allow, named `health`)."""
        return Decision(Action.ALLOW, HEALTH_RULE, enforced=self.enforcing)

    def context(self, *, dry_run: bool = False) -> RequestContext:
        """A request's context; `dry_run` (`explain`) noted, else nothing (as the middleware
        makes it)."""
        return RequestContext(self.store, [], False, {"dry_run": True} if dry_run else {})

    async def decide(self, facts: Facts, ctx: RequestContext | None = None) -> Decision:
        ctx = ctx if ctx is not None else self.context()
        found = self.decide_now(facts, ctx)
        return found if isinstance(found, Decision) else await found

    def decide_now(self, facts: Facts, ctx: RequestContext) -> Decision | Awaitable[Decision]:
        """`decide`, without a coroutine when nothing waits (the MemoryStore, and detectors
        that answer at once): the decision, or an awaitable of it (the work is done once).

        The operator's lists decide first. A first-party client with a valid credential, and a
        CORS preflight, meet only their own detectors and are never challenged. Then the ban read
        and the detectors: on Redis their commands leave together, one round trip, and the ban
        comes with the rate limiter's reply when its script read it (`ctx.ban_read`)."""
        if self._listing and (listed := self._listed(facts)) is not None:
            return listed
        if not self._plans.for_list(self.detectors):  # new, or the list was changed
            self._plans = Plans(self.detectors)
            if self.leases is not None:
                self.leases.end_all()  # granted by the old list's detectors
        runs, allow_rule = None, None
        if self._first_valid is not None and (name := self._first_valid(facts)) is not None:
            runs, allow_rule = self._first_party_runs, FIRST_PARTY_PREFIX + name
            ctx.notes[ON_CHALLENGE_NOTE] = "throttle"
        elif facts.method == "OPTIONS" and is_preflight(facts):
            runs, allow_rule = self._preflight_runs, PREFLIGHT_RULE
            ctx.notes[ON_CHALLENGE_NOTE] = "throttle"
        if (leases := self.leases) is not None:
            ban_now = self.bans.peek  # (memory: read at once; Redis: None, seen later)
            kind = (facts.method, facts.route_group, facts.route)
            used = leases.use(facts, kind, ctx, ban_now, leasable=allow_rule is None)
            if isinstance(used, Decision):  # the grant's decision, for this request
                return used
            if used is not False:  # its reservation is on its way (one round trip)
                return self._after_reservation(used, facts, ctx)
        if runs is None:  # the plan of this kind of request (not needed by a leased one)
            runs = self._plans.for_request(facts)
        started = start_early(runs, facts, ctx, self._failed) if runs.early else None
        if not self._ban_last:
            ban = self._ban_read(facts, ctx)
            if ban is None or isinstance(ban, Ban):
                ctx.banned = ban is not None  # the limiter need not read the ban again
        signals = detect(runs, facts, ctx, self._failed, started)
        if self._ban_last:
            ban = ctx.ban_read if ctx.ban_read is not None else self._ban_read(facts, ctx)
        if isinstance(signals, list) and (ban is None or isinstance(ban, Ban)):
            return self._conclude(facts, ctx, ban, signals, allow_rule)
        return self._decide_later(facts, ctx, ban, signals, allow_rule)

    async def _after_reservation(
        self, ready: asyncio.Future[None], facts: Facts, ctx: RequestContext
    ) -> Decision:
        """Decided once what it waits for (a grant, a reservation, a full evaluation) is done
        (leased, or in full if refused): waited for once, within that thing's deadline (its
        `Wakeup`'s timer wakes every waiter at once: docs/leases.md)."""
        await ready
        ctx.notes[WAITED_NOTE] = True
        decided = self.decide_now(facts, ctx)
        return decided if isinstance(decided, Decision) else await decided

    def _ban_read(self, facts: Facts, ctx: RequestContext) -> Ban | Awaitable[Ban | None] | None:
        """The ban phase's own read (`BanList.lookup`); None, the store failed, when the circuit
        is open."""
        try:
            return self.bans.lookup(facts.client_key)
        except StoreUnavailable:  # the circuit is open: decided without the store
            ctx.store_failed = True
            return None

    async def _ban_alone(self, facts: Facts, ctx: RequestContext) -> Ban | None:
        """The ban read on its own (a second round trip, only when the script that read it
        failed)."""
        try:
            return await self.bans.get(facts.client_key)
        except StoreUnavailable:
            ctx.store_failed = True
            return None

    async def _decide_later(
        self,
        facts: Facts,
        ctx: RequestContext,
        ban: Ban | Awaitable[Ban | None] | None,
        signals: list[Signal] | Awaitable[list[Signal]],
        allow_rule: str | None,
    ) -> Decision:
        """`decide_now` once the detectors and the ban read that had to wait have answered."""
        if not isinstance(ban, Ban | None):
            try:
                ban = await ban
            except StoreUnavailable:
                ctx.store_failed, ban = True, None
            except StoreError:  # the limiter's script failed alone (`ctx.ban_read`)
                ban = await self._ban_alone(facts, ctx)
            except BaseException:
                if not isinstance(signals, list):  # queued: read, so no reply is left unread
                    drain([signals])
                raise
        if not isinstance(signals, list):
            signals = await signals
        found = self._conclude(facts, ctx, ban, signals, allow_rule)
        return found if isinstance(found, Decision) else await found

    def _conclude(
        self,
        facts: Facts,
        ctx: RequestContext,
        ban: Ban | None,
        signals: list[Signal],
        allow_rule: str | None = None,
    ) -> Decision | Awaitable[Decision]:
        """The decision from the ban and the signals; awaitable only when a ban is written.
        `allow_rule` names a plain allow (e.g. `first-party/<name>`)."""
        if ban is not None:
            signal = Signal("ban/active", 0.0, ban.reason or ban.rule, retry_after=ban.remaining)
            banned = self._decision(
                facts, Action.BLOCK, "ban/active", reasons=(signal,), retry_after=ban.remaining
            )
            self._judged(facts, ctx, False, banned)  # the client's leases end here
            return banned
        verdict = self.policy.evaluate(signals) if signals else self._no_signals
        status = None
        if verdict.action is not _ALLOW:  # (the allow path: this one test)
            verdict = self._adjusted(facts, ctx, verdict)
            if self.pay_per_crawl is not None:
                verdict, status = self.pay_per_crawl.consider(facts, ctx, verdict)
        rule = verdict.rule
        if allow_rule is not None and verdict.action is Action.ALLOW and rule == "allow":
            rule = allow_rule
        decision = self._decision(
            facts,
            verdict.action,
            rule,
            verdict.score,
            verdict.reasons,
            verdict.retry_after,
            verdict.ban_for,
            status,
        )
        if verdict.action is _CHALLENGE and (use := ctx.notes.get(BUDGET_USE)) is not None:
            decision.extra[BUDGET_USE] = use  # the challenge's difficulty rises with it
        # no signal, or only steady ones (`Steady` detectors: UNSTEADY_NOTE not set)
        clean = (
            verdict.action is _ALLOW
            and UNSTEADY_NOTE not in ctx.notes
            and allow_rule is None
            and not ctx.store_failed
        )
        self._judged(facts, ctx, clean, decision)
        if verdict.action is Action.BAN and self.enforcing and not ctx.notes.get("dry_run"):
            return self._ban_then(facts, ctx, verdict, decision)
        if ctx.store_failed:
            return self._failed_closed(facts, verdict, decision)
        return decision

    def _judged(self, facts: Facts, ctx: RequestContext, clean: bool, decision: Decision) -> None:
        """The lease table told of a full evaluation (docs/leases.md): any decision but a plain
        allow (a ban found by the ban read included) ends the client's leases and gives back
        what its hit reserved along; a `clean` one may be leased."""
        if self.leases is not None and not ctx.notes.get("dry_run"):
            self.leases.judged(facts, ctx, self._plans if clean else None, decision)

    def _adjusted(self, facts: Facts, ctx: RequestContext, verdict: Verdict) -> Verdict:
        """A challenge where none may be sent, or a decoy where no image is asked for."""
        if verdict.action is Action.CHALLENGE:
            return self._unchallenged(facts, ctx, verdict)
        if verdict.action is Action.DECOY and not self.decoy.applies(facts):
            # A decoy is an image; anywhere else the verdict is a block (docs/actions.md).
            rule = NO_DECOY_PREFIX + verdict.rule
            return msgspec.structs.replace(verdict, action=Action.BLOCK, rule=rule)
        return verdict

    def _unchallenged(self, facts: Facts, ctx: RequestContext, verdict: Verdict) -> Verdict:
        """A challenge where none may be sent (waivers.py): the request's or its route group's."""
        instead = ctx.notes.get(ON_CHALLENGE_NOTE) or self._on_challenge.get(facts.route_group)
        return verdict if instead is None else unchallenged(verdict, instead)

    async def _ban_then(
        self, facts: Facts, ctx: RequestContext, verdict: Verdict, decision: Decision
    ) -> Decision:
        duration = verdict.ban_for or self.settings.ban_default_duration
        try:
            await self.bans.ban(facts.client_key, duration, reason=verdict.rule, rule=verdict.rule)
        except StoreUnavailable:
            ctx.store_failed = True
        return self._failed_closed(facts, verdict, decision) if ctx.store_failed else decision

    def _failed_closed(self, facts: Facts, verdict: Verdict, decision: Decision) -> Decision:
        """The store failed during this request: with fail_mode=closed an allow becomes 503."""
        if self.settings.fail_mode != "closed" or decision.action is not Action.ALLOW:
            return decision
        return self._decision(
            facts,
            Action.BLOCK,
            "store/fail-closed",
            score=verdict.score,
            reasons=(*verdict.reasons, Signal("store/unavailable", 0.0, "fail_mode=closed")),
            retry_after=self.settings.breaker_cooldown,
            status=503,
        )

    def _listed(self, facts: Facts) -> Decision | None:
        """The operator's safelist, then blocklist: the first matching rule decides."""
        if name := self.safelist.first_match(facts):
            return self._decision(facts, Action.ALLOW, f"safelist/{name}")
        if name := self.blocklist.first_match(facts):
            signal = Signal(f"blocklist/{name}", 0.0, "operator blocklist rule")
            return self._decision(facts, Action.BLOCK, f"blocklist/{name}", reasons=(signal,))
        return None

    def _failed(
        self, detector: Detector, facts: Facts, ctx: RequestContext, exc: Exception
    ) -> None:
        """A detector that failed yields no signals; fail-closed mode re-raises (503)."""
        if isinstance(exc, StoreUnavailable):
            ctx.store_failed = True
            return
        if self.settings.fail_mode == "closed":
            raise exc  # the middleware turns it into the fail-closed decision (503)
        logger.error(
            "detector %s failed on request %s", detector.name, facts.request_id, exc_info=exc
        )

    def _decision(
        self,
        facts: Facts,
        action: Action,
        rule: str,
        score: float = 0.0,
        reasons: tuple[Signal, ...] = (),
        retry_after: float | None = None,
        ban_for: float | None = None,
        status: int | None = None,
    ) -> Decision:
        """The one place a Decision is built for a request."""
        return Decision(
            action,
            rule,
            score,
            reasons,
            self.enforcing,
            facts.client_key,
            facts.request_id,
            retry_after,
            ban_for,
            status,
            {},
        )

    def failure_decision(self, facts: Facts, error: BaseException) -> Decision:
        """The decision when the pipeline itself broke: fail open, or closed if configured."""
        signal = Signal("internal/error", 0.0, type(error).__name__)
        if self.settings.fail_mode == "closed":
            return self._decision(
                facts,
                Action.BLOCK,
                "internal/fail-closed",
                reasons=(signal,),
                status=503,
                retry_after=self.settings.breaker_cooldown,
            )
        return self._decision(facts, Action.ALLOW, "internal/fail-open", reasons=(signal,))

    async def response_for(self, decision: Decision, facts: Facts) -> ASGIApp:
        return await self.responses.response_for(decision, facts)

    async def log(self, decision: Decision, facts: Facts, *, event: str = "decision") -> None:
        await self.decision_log.write(decision, facts, event)

    async def log_served(self, decision: Decision, facts: Facts) -> None:
        """An allowed request of a catalogued crawler, within the sample's bound (evidence)."""
        await self.decision_log.served(decision, facts)

    async def log_robots_fetch(self, facts: Facts) -> None:
        """A catalogued crawler fetched robots.txt: the version it read (its directive state),
        within the sample's bound (evidence)."""
        reasons = self.evidence.robots_fetch(facts)
        if reasons:
            decision = self._decision(facts, Action.ALLOW, ROBOTS_RULE, reasons=reasons)
            await self.log(decision, facts, event=ROBOTS_EVENT)

    # -- operator actions -----------------------------------------------------------------------

    def client_key_for(self, target: str) -> str:
        """An IP grouped like a request's (IPv6 to its prefix), or a network of the key size;
        anything else raises `support.TargetError` (a ValueError naming what is accepted)."""
        return client_key_of(target, self.settings)

    async def ban(
        self, ip: str, duration: float | None = None, *, reason: str = "", rule: str = "ban/manual"
    ) -> Ban:
        seconds = duration if duration is not None else self.settings.ban_default_duration
        if self.leases is not None:  # its leases end here and now
            self.leases.end_client(self.client_key_for(ip))
        return await self.bans.ban(self.client_key_for(ip), seconds, reason=reason, rule=rule)

    async def unban(self, ip: str, *, forget: bool = False) -> bool:
        """Lift the ban and the trap flag (with `forget`, the escalation history too); True if
        anything was lifted. See `scrapeshield.support` for the whole support path."""
        lifted = await Support(self.store, self.settings).lift(
            self.client_key_for(ip), forget=forget
        )
        return bool(lifted)

    async def aclose(self) -> None:
        if self.leases is not None:
            await self.leases.aclose()  # settled before the store closes
        if self.metrics is not None:
            self.metrics.close()
        await self.store.aclose()
