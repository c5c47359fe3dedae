"""Evaluate signals against the policy: weights, then the first matching rule, else thresholds.

A challenge pass (`challenge/passed`) answers only the signals named by `pass_answers`: their
weight counts as 0 while it is valid. A challenge verdict (rule or score) that a pass holder
still earns from signals it does not answer is a block (`unanswered/<rule>`): solving the work
again would prove nothing new, and a page that re-challenges forever helps no one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from importlib import resources
from typing import Any

import msgspec

from scrapeshield.patterns import GlobSet
from scrapeshield.settings import PolicyRuleSpec, PolicySettings
from scrapeshield.signals import CHALLENGE_PASSED, Action, Signal


def load_default_policy() -> dict[str, Any]:
    """The packaged default policy file, parsed."""
    text = resources.files("scrapeshield.policy").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


_WEIGHT_CACHE_SIZE = 4096
UNANSWERED_PREFIX = "unanswered/"
ANSWERED_NOTE = "answered by the challenge pass"


class Verdict(msgspec.Struct, frozen=True):
    action: Action
    rule: str
    score: float
    reasons: tuple[Signal, ...]
    retry_after: float | None = None
    ban_for: float | None = None


class _Rule:
    __slots__ = ("action", "ban_for", "globs", "min_score", "name")

    def __init__(self, spec: PolicyRuleSpec) -> None:
        self.name = spec.name
        self.globs = GlobSet(spec.signals)
        self.action = spec.action
        self.min_score = spec.min_score
        self.ban_for = spec.ban_for


class Policy:
    """Compiled once from settings; `evaluate` is a pure function of the signals."""

    def __init__(self, settings: PolicySettings) -> None:
        default = load_default_policy()
        specs = list(settings.rules)
        if settings.use_default_rules:
            specs += [PolicyRuleSpec(**rule) for rule in default.get("rules", [])]
        self._rules = tuple(_Rule(spec) for spec in specs)
        weights: dict[str, float] = dict(default.get("weights", {}))
        weights.update(settings.weights)
        # Operator globs first (they were added last), so an operator's override always wins.
        self._weights = tuple(
            (GlobSet([pattern]), float(weight)) for pattern, weight in reversed(weights.items())
        )
        self._weight_cache: dict[str, float | None] = {}
        self._rule_cache: dict[str, frozenset[int]] = {}
        self._known: dict[tuple[tuple[str, float], ...], Verdict] = {}
        self.challenge_score = settings.challenge_score
        self.block_score = settings.block_score
        answers = settings.pass_answers
        if answers is None:
            answers = list(default.get("pass_answers", []))
        self._answers = GlobSet(answers)
        self._answered_cache: dict[str, bool] = {}
        given = (
            (settings.block_score, Action.BLOCK),
            (settings.decoy_score, Action.DECOY),
            (settings.tarpit_score, Action.TARPIT),
            (settings.challenge_score, Action.CHALLENGE),
        )
        # The highest threshold reached decides; on a tie, the harsher action (listed first).
        ranked = sorted(
            (-value, rank, action)
            for rank, (value, action) in enumerate(given)
            if value is not None
        )
        self._thresholds: tuple[tuple[float, Action, str], ...] = tuple(
            (-negated, action, f"score/{action.value}") for negated, _, action in ranked
        )
        # Most requests carry no signal at all: their verdict is computed once.
        self._no_signals = self._evaluate(())

    def weight_of(self, signal: Signal) -> float:
        """The policy's weight for this signal's name, else the detector's own."""
        name = signal.name
        if name in self._weight_cache:
            override = self._weight_cache[name]
        else:
            override = None
            for globs, weight in self._weights:
                if globs.matches(signal.name):
                    override = weight
                    break
            if len(self._weight_cache) >= _WEIGHT_CACHE_SIZE:
                self._weight_cache.clear()  # names come from detectors, but stay bounded anyway
            self._weight_cache[name] = override
        return signal.weight if override is None else override

    def answered(self, name: str) -> bool:
        """Whether a challenge pass answers this signal (`pass_answers`), cached per name."""
        found = self._answered_cache.get(name)
        if found is None:
            found = self._answers.matches(name)
            if len(self._answered_cache) >= _WEIGHT_CACHE_SIZE:
                self._answered_cache.clear()
            self._answered_cache[name] = found
        return found

    def _rules_matching(self, name: str) -> frozenset[int]:
        """Indexes of the rules whose globs match this signal name, cached per name."""
        found = self._rule_cache.get(name)
        if found is None:
            found = frozenset(i for i, rule in enumerate(self._rules) if rule.globs.matches(name))
            if len(self._rule_cache) >= _WEIGHT_CACHE_SIZE:
                self._rule_cache.clear()
            self._rule_cache[name] = found
        return found

    def evaluate(self, signals: Sequence[Signal]) -> Verdict:
        if not signals:
            return self._no_signals
        # Without a retry_after or a challenge pass, the verdict depends on the signals' names
        # and weights alone: it is made once per combination, and only `reasons` is new (each
        # signal with this request's detail).
        key = []
        for signal in signals:
            if signal.retry_after is not None or signal.name == CHALLENGE_PASSED:
                return self._evaluate(signals)
            key.append((signal.name, signal.weight))
        combination = tuple(key)
        known = self._known.get(combination)
        if known is None:
            verdict = self._evaluate(signals)
            if len(self._known) >= _WEIGHT_CACHE_SIZE:
                self._known.clear()  # names come from detectors, but stay bounded anyway
            self._known[combination] = verdict
            return verdict
        reasons = []
        for signal, weighted in zip(signals, known.reasons, strict=True):
            if weighted.weight != signal.weight:  # the policy's weight, this request's detail
                signal = Signal(signal.name, weighted.weight, signal.detail, None)
            reasons.append(signal)
        return Verdict(known.action, known.rule, known.score, tuple(reasons), None, known.ban_for)

    def _evaluate(self, signals: Sequence[Signal]) -> Verdict:
        # One pass: the policy's weights, and the rules each signal's name matches.
        weighted: list[Signal] = []
        hit: set[int] = set()
        passed = False
        for s in signals:
            if (w := self.weight_of(s)) != s.weight:
                s = Signal(s.name, w, s.detail, s.retry_after)
            weighted.append(s)
            hit |= self._rules_matching(s.name)
            # A solved challenge answers the challenges its answered signals led to (rule or
            # score), never a throttle or block.
            passed = passed or s.name == CHALLENGE_PASSED
        if passed:
            weighted = self._offset(weighted)
        reasons = tuple(weighted)
        score = round(sum(s.weight for s in reasons), 3)
        for index in sorted(hit):
            rule = self._rules[index]
            if rule.min_score is not None and score < rule.min_score:
                continue
            if passed and rule.action is Action.CHALLENGE:
                matched = [s for s in reasons if index in self._rules_matching(s.name)]
                if all(self.answered(s.name) for s in matched):
                    continue  # the pass answers this rule's doubts
                name = UNANSWERED_PREFIX + rule.name
                return Verdict(Action.BLOCK, name, score, reasons)
            retry: float | None = None  # the latest retry_after of the signals it matched
            for s in reasons:
                if s.retry_after and index in self._rules_matching(s.name):
                    retry = s.retry_after if retry is None else max(retry, s.retry_after)
            return Verdict(rule.action, rule.name, score, reasons, retry, rule.ban_for)
        for threshold, action, name in self._thresholds:
            if score < threshold:
                continue
            if passed and action is Action.CHALLENGE:
                # Answered signals count 0 by now: what is left is what the pass cannot answer.
                if any(s.weight > 0 for s in reasons):
                    return Verdict(Action.BLOCK, UNANSWERED_PREFIX + name, score, reasons)
                break
            return Verdict(action, name, score, reasons)
        return Verdict(Action.ALLOW, "allow", score, reasons)

    def _offset(self, signals: list[Signal]) -> list[Signal]:
        """With a valid pass: the signals it answers count 0 (named in the detail)."""
        out = []
        for s in signals:
            if s.weight > 0 and self.answered(s.name):
                detail = f"{s.detail}; {ANSWERED_NOTE}" if s.detail else ANSWERED_NOTE
                s = Signal(s.name, 0.0, detail, s.retry_after)
            out.append(s)
        return out
