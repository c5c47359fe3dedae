"""The replay's verdict shortcut (`replay.replayed`: a rebuilt signal of the grant's name and
weight takes the grant's verdict) holds only for a signal without a retry time: a rule that
matches a signal carrying one gives the verdict that time, on an allow too, so such a replay
asks the policy."""

from __future__ import annotations

from typing import Any

from scrapeshield import Settings
from scrapeshield.facts import FactsBuilder
from scrapeshield.lease.lease import Lease
from scrapeshield.lease.replay import replayed
from scrapeshield.policy import Policy
from scrapeshield.signals import Action, Decision, Signal
from scrapeshield.synthetic import synthetic_scope

NAME = "behaviour/no-assets"


def _rebuilding(signal: Signal) -> Any:
    return lambda state, facts, used: signal


def test_a_replayed_retry_time_reaches_the_decision() -> None:
    rule = {"name": "allowed-with-retry", "signals": [NAME], "action": "allow"}
    policy = Policy(Settings(policy={"rules": [rule]}).policy)
    facts = FactsBuilder(Settings()).build(synthetic_scope(path="/artworks/7"))
    verdict = policy.evaluate([Signal(NAME, 25.0, "30 pages")])
    assert (verdict.action, verdict.rule, verdict.retry_after) == (
        Action.ALLOW,
        "allowed-with-retry",
        None,
    )
    granted = Decision(verdict.action, verdict.rule, verdict.score, verdict.reasons)
    lease = Lease(8, facts.time + 1, granted)
    rebuilt = Signal(NAME, 25.0, "31 pages", retry_after=30.0)  # the grant's name and weight
    lease.replays.append((_rebuilding(rebuilt), None, 0))
    wanted = policy.evaluate([rebuilt])
    assert wanted.retry_after == 30.0  # (what the rule gives an allow it matches)
    decision = replayed(lease, facts, policy.evaluate)
    assert decision is not None
    assert (decision.action, decision.rule, decision.retry_after, decision.reasons) == (
        Action.ALLOW,
        "allowed-with-retry",
        30.0,
        wanted.reasons,
    )
    # without a retry time the grant's verdict is taken as it is, with the new detail
    lease.replays[0] = (_rebuilding(Signal(NAME, 25.0, "31 pages")), None, 0)
    plain = replayed(lease, facts, _never_asked)
    assert plain is not None
    assert plain.reasons[0].detail == "31 pages"
    assert plain.retry_after is None
    assert plain.rule == "allowed-with-retry"


def _never_asked(signals: object) -> Any:
    raise AssertionError(f"the policy was asked for {signals!r}: the grant's verdict holds")
