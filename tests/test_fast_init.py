"""`fast_init`: the faster constructor of Facts, Decision and Signal behaves like the frozen one."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from scrapeshield.facts import Facts
from scrapeshield.signals import Action, Decision, Signal, fast_init


def test_instances_stay_frozen() -> None:
    decision = Decision(Action.ALLOW, "allow")
    signal = Signal("ua/empty", 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.rule = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del signal.weight


def test_defaults_keywords_and_factories_as_dataclasses_give_them() -> None:
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
    assert dataclasses.replace(decision, rule="s").rule == "s"
    assert pickle.loads(pickle.dumps(decision)) == decision
    assert str(inspect.signature(Decision).parameters["extra"]) == (
        "extra: 'dict[str, Any]' = <factory>"
    )
    assert list(inspect.signature(Facts).parameters)[-1] == "time"
    assert Facts.__init__.__module__ == "scrapeshield.facts"
    with pytest.raises(TypeError, match="rule"):
        Decision(Action.ALLOW)  # type: ignore[call-arg]


def test_fields_it_cannot_build_are_refused() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class KwOnly:
        a: int = dataclasses.field(kw_only=True)

    with pytest.raises(TypeError, match=r"KwOnly\.a"):
        fast_init(KwOnly)


def test_only_slots_dataclasses() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    with pytest.raises(TypeError, match=r"NoSlots\.a"):
        fast_init(NoSlots)
