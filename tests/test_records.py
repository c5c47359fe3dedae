"""The per-request records (msgspec Structs): frozen where they were frozen dataclasses, with the
same constructors, defaults and factories, so custom detectors and responders keep working."""

from __future__ import annotations

import inspect
import pickle

import msgspec
import pytest
from limits import parse_many

from scrapeshield.facts import Facts
from scrapeshield.policy.engine import Verdict
from scrapeshield.ratelimit.backends import LimitState, Outcome
from scrapeshield.ratelimit.plan import Limit
from scrapeshield.signals import Action, Decision, Signal


def _facts(**changes: object) -> Facts:
    facts = Facts(
        "GET", "/a", "", "http", "1.1", "h", {}, "ua", False, None, None, "k", "g", "i", False
    )
    return msgspec.structs.replace(facts, **changes) if changes else facts


def test_records_stay_frozen() -> None:
    decision = Decision(Action.ALLOW, "allow")
    signal = Signal("ua/empty", 1.0)
    verdict = Verdict(Action.ALLOW, "allow", 0.0, ())
    with pytest.raises(AttributeError):
        decision.rule = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del signal.weight
    with pytest.raises(AttributeError):
        _facts().path = "/b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        verdict.score = 1.0  # type: ignore[misc]
    assert hash(signal) == hash(Signal("ua/empty", 1.0))  # frozen and comparable: hashable
    with pytest.raises(TypeError):
        hash(decision)  # it holds `extra`, a dict (documented in architecture.md)


def test_defaults_keywords_and_factories() -> None:
    decision = Decision(rule="r", action=Action.BLOCK, status=503)
    assert (decision.score, decision.reasons, decision.enforced, decision.status) == (
        0.0,
        (),
        True,
        503,
    )
    assert decision.extra == {}
    assert decision.extra is not Decision(Action.ALLOW, "r").extra  # a new dict each time
    assert Decision(Action.ALLOW, "r", extra={"a": 1}).extra == {"a": 1}
    assert msgspec.structs.replace(decision, rule="s").rule == "s"
    assert pickle.loads(pickle.dumps(decision)) == decision
    assert list(inspect.signature(Facts).parameters)[-3:] == ["via_proxy", "time", "route"]
    facts = _facts()
    assert facts.via_proxy is False
    assert facts.route is None  # no marked route unless the builder found one
    assert abs(facts.time - _facts().time) < 60  # the default factory: the time of building
    assert _facts(path="/b").path == "/b"
    with pytest.raises(TypeError, match="rule"):
        Decision(Action.ALLOW)  # type: ignore[call-arg]
    assert repr(Signal("ua/empty", 1.0)) == (
        "Signal(name='ua/empty', weight=1.0, detail='', retry_after=None)"
    )


def test_outcome_builds_its_states_when_read() -> None:
    limits = tuple(
        Limit("g", "client", item, "sliding-window-counter")
        for item in parse_many("10/minute;5/second")
    )
    now = 1_700_000_040.0  # a whole minute: both windows just began (no previous counts)
    # each limit's window after a hit of cost 1: (window index, count, previous count)
    outcome = Outcome.admitted(limits, [(int(now // 60), 3, 0), (int(now), 2, 0)], 1, now)
    assert outcome.rejected is None
    assert outcome.strikes == 0
    closest = outcome.closest  # the smallest share left: 3 of 5 against 7 of 10
    assert closest == LimitState(limits[1], 3, 1.0)
    assert outcome.states == (LimitState(limits[0], 7, 60.0), closest)
    assert outcome.states[1] is closest  # read once, then kept
    outcome.strikes = 2  # an Outcome is filled in by the limiter: not frozen
    assert "strikes=2" in repr(outcome)
    with pytest.raises(AttributeError):
        closest.remaining = 0  # type: ignore[misc]
