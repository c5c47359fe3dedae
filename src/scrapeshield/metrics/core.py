"""The collectors: counted per request by the metered middleware and per block-log event by
the shield's log observers; the store's errors and breaker state are read at scrape time.

    scrapeshield_decisions_total{action, rule, category, enforced}
    scrapeshield_challenges_total{outcome}                 issued | passed | failed
    scrapeshield_budget_exhausted_total{budget, outcome}   visitor/hour... | over | refuse
    scrapeshield_store_errors_total{store}
    scrapeshield_store_breaker_state{store, state}         1 for the current state
    scrapeshield_added_latency_seconds                     until the app is entered, or
                                                           scrapeshield's own response is sent
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import Scope

from scrapeshield.blocklog import BlockLog
from scrapeshield.challenge.core import FAILED, ISSUED, PASSED
from scrapeshield.errors import ConfigurationError
from scrapeshield.metrics.labels import OTHER, budget_of, category_of, known_rules
from scrapeshield.metrics.timing import ENTERED
from scrapeshield.settings import Settings
from scrapeshield.signals import Action, Decision
from scrapeshield.store.base import Store
from scrapeshield.store.breaker import BreakerState

STATE_KEY = "scrapeshield"  # scope["state"] key of the decision (middleware.STATE_KEY)
_CHALLENGE_EVENTS = {ISSUED: "issued", PASSED: "passed", FAILED: "failed"}
_MAX_CHILDREN = 4096  # label combinations cached (all bounded; this bounds the cache itself)


class Metrics:
    """One shield's metrics, on its own registry or the one the settings name."""

    def __init__(self, settings: Settings, store: Store, blocklog: BlockLog) -> None:
        config = settings.metrics
        self.registry: CollectorRegistry = (
            config.registry if config.registry is not None else CollectorRegistry()
        )
        self._rules = known_rules(settings)
        self._collectors: list[Collector] = []
        try:
            self.decisions = self._add(
                Counter(
                    "scrapeshield_decisions",
                    "Decisions by action, rule, user-agent category and enforcement",
                    ["action", "rule", "category", "enforced"],
                    registry=None,
                )
            )
            self.challenges = self._add(
                Counter(
                    "scrapeshield_challenges",
                    "Challenges issued (pages sent), passed and failed (answers checked)",
                    ["outcome"],
                    registry=None,
                )
            )
            self.budgets = self._add(
                Counter(
                    "scrapeshield_budget_exhausted",
                    "Requests that found an originals budget spent (over: challenged; refuse)",
                    ["budget", "outcome"],
                    registry=None,
                )
            )
            self.latency = self._add(
                Histogram(
                    "scrapeshield_added_latency_seconds",
                    "Time scrapeshield adds before the app is entered or its own response is sent",
                    buckets=config.buckets,
                    registry=None,
                )
            )
            self._add(_StoreCollector(store, blocklog))
        except ValueError as exc:  # "Duplicated timeseries": one shield per registry
            self.close()
            raise ConfigurationError(
                [f"metrics.registry: it already holds scrapeshield's metrics ({exc})"]
            ) from None
        self._children: dict[tuple[Action, str, bool, str], Any] = {}

    def _add(self, collector: Any) -> Any:
        self.registry.register(collector)
        self._collectors.append(collector)
        return collector

    def close(self) -> None:
        """Unregister from the registry (a shield closed, another may take its place)."""
        for collector in self._collectors:
            self.registry.unregister(collector)
        self._collectors.clear()

    # -- per request (the metered middleware) -----------------------------------------------

    def observe(self, scope: Scope, started: float, finished: float) -> None:
        """Count the request's decision and time scrapeshield's part of it: until the app was
        entered, else until scrapeshield's own response was sent (`finished`). A request a
        directive or challenge endpoint answered has no decision and is not counted; a tarpit
        holds on purpose, so its delay is not scrapeshield's latency."""
        state = scope.get("state")
        decision = state.get(STATE_KEY) if state else None
        if not isinstance(decision, Decision):
            return
        if not (decision.action is Action.TARPIT and decision.enforced):
            self.latency.observe(max(0.0, scope.get(ENTERED, finished) - started))
        key = (decision.action, decision.rule, decision.enforced, category_of(decision.reasons))
        child = self._children.get(key)
        if child is None:
            child = self._child(key)
        child.inc()
        if decision.reasons:
            for signal in decision.reasons:
                if signal.name.startswith("budget/") and (found := budget_of(signal.name)):
                    self.budgets.labels(*found).inc()

    def _child(self, key: tuple[Action, str, bool, str]) -> Any:
        action, rule, enforced, category = key
        label = rule if rule in self._rules else OTHER
        child = self.decisions.labels(
            action=action.value, rule=label, category=category, enforced=str(enforced).lower()
        )
        if len(self._children) < _MAX_CHILDREN:
            self._children[key] = child
        return child

    # -- per block-log event (the shield's log observers) ----------------------------------

    def on_event(self, decision: Decision, event: str) -> None:
        outcome = _CHALLENGE_EVENTS.get(event)
        if outcome is not None:
            self.challenges.labels(outcome).inc()


class _StoreCollector(Collector):
    """The store's errors and its circuit breaker's state, read when Prometheus scrapes."""

    def __init__(self, store: Store, blocklog: BlockLog) -> None:
        self.store = store
        self.blocklog = blocklog

    def collect(self) -> Iterator[Any]:
        name = str(self.store.name)
        breaker = getattr(self.store, "breaker", None)
        failures = getattr(breaker, "failures", 0) + self.blocklog.store_failures
        errors = CounterMetricFamily(
            "scrapeshield_store_errors",
            "Store calls that failed (timeouts, outages, the breaker open) and events not stored",
            labels=["store"],
        )
        errors.add_metric([name], float(failures))
        yield errors
        current = getattr(breaker, "state", BreakerState.CLOSED)
        state = GaugeMetricFamily(
            "scrapeshield_store_breaker_state",
            "The store's circuit breaker: 1 for its current state (closed, open, half-open)",
            labels=["store", "state"],
        )
        for each in BreakerState:
            state.add_metric([name, each.value], 1.0 if each is current else 0.0)
        yield state
