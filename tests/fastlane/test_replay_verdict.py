"""A leased request's replayed decision (`lease.replay.replayed`): where a rebuilt signal keeps
the grant's name and weight it takes the grant's verdict without a policy call; every answer is
the one the policy gives the rebuilt signals (the grant's decision where each keeps the grant's
name and detail), for signals that keep their weight or not, that vanish, carry a retry time or
are renamed, and under a policy weighing them otherwise."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from scrapeshield import Settings
from scrapeshield.facts import FactsBuilder
from scrapeshield.lease.lease import Lease
from scrapeshield.lease.replay import replayed
from scrapeshield.policy import Policy
from scrapeshield.signals import Action, Decision, Signal
from scrapeshield.synthetic import synthetic_scope

_NAMES = [
    "behaviour/no-assets",
    "identity/issuance-limited",
    "headers/no-accept-language",
    "challenge/passed",
]


def _policy(weighted: bool) -> Policy:
    weights = {"behaviour/no-assets": 12.0} if weighted else {}
    return Policy(Settings(policy={"weights": weights}).policy)


def _signal(draw: random.Random, name: str) -> Signal:
    retry = 30.0 if draw.random() < 0.1 else None
    return Signal(name, draw.choice([5.0, 15.0, 25.0]), f"{draw.randint(1, 500)} pages", retry)


def _giving(signal: Signal | None) -> Callable[[Any, Any, int], Signal | None]:
    """A detector's `lease_replay` that rebuilds `signal`."""
    return lambda state, facts, used: signal


def _expected(policy: Policy, granted: Decision, rebuilt: list[Any], facts: Any) -> Any:
    """What the policy makes of the rebuilt signals, always asked (as documented, a signal of
    the grant's name and detail stays the grant's)."""
    reasons = [
        was if s is not None and s.name == was.name and s.detail == was.detail else s
        for s, was in zip(rebuilt, granted.reasons, strict=True)
    ]
    fields: dict[str, Any] = {"client_key": facts.client_key, "request_id": facts.request_id}
    if reasons != list(granted.reasons):
        verdict = policy.evaluate([s for s in reasons if s is not None])
        if verdict.action is not Action.ALLOW:
            return None
        fields |= {
            "rule": verdict.rule,
            "score": verdict.score,
            "reasons": verdict.reasons,
            "retry_after": verdict.retry_after,
            "ban_for": verdict.ban_for,
        }
    return msgspec.structs.replace(granted, **fields, extra={})


@pytest.mark.parametrize("weighted", [False, True])
def test_a_replayed_decision_is_the_policys(weighted: bool) -> None:
    draw, policy = random.Random(31), _policy(weighted)
    facts = FactsBuilder(Settings()).build(synthetic_scope(path="/artworks/7"))
    for _ in range(3_000):
        granted_signals = [_signal(draw, n) for n in draw.sample(_NAMES, draw.randint(1, 3))]
        verdict = policy.evaluate(granted_signals)
        if verdict.action is not Action.ALLOW:
            continue
        granted = Decision(verdict.action, verdict.rule, verdict.score, verdict.reasons)
        lease = Lease(8, facts.time + 1, granted)
        reasons: list[Any] = list(granted.reasons)
        for at in draw.sample(range(len(reasons)), draw.randint(1, len(reasons))):
            was, pick = reasons[at], draw.random()
            if pick < 0.4:  # the same name and weight, a new detail
                rebuilt = Signal(was.name, was.weight, f"{draw.randint(1, 500)} pages")
            elif pick < 0.55:  # vanished
                rebuilt = None
            elif pick < 0.65:  # renamed
                rebuilt = Signal(draw.choice(_NAMES), was.weight, was.detail)
            else:  # as a detector gives it: its own weight, maybe a retry time
                rebuilt = _signal(draw, was.name)
            reasons[at] = rebuilt
            lease.replays.append((_giving(rebuilt), None, at))
        assert replayed(lease, facts, policy.evaluate) == _expected(policy, granted, reasons, facts)
