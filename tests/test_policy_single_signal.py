"""A request's signals take the policy's cached path (one verdict per combination of names and
weights): the same verdict as the full evaluation, with this request's own signal details,
whatever the names, weights or repeats."""

from __future__ import annotations

import itertools

from scrapeshield.policy import Policy
from scrapeshield.settings import PolicySettings
from scrapeshield.signals import CHALLENGE_PASSED, Signal

NAMES = [
    "behaviour/walk",
    "ua/category/ai-training",
    "ua/category/headless-browser",
    "bot/verified/googlebot",
    "escalation/ban",
    "ratelimit/pages/client",
    CHALLENGE_PASSED,
    "x/unknown",
]


def test_one_signal_gets_the_full_evaluations_verdict() -> None:
    policy = Policy(PolicySettings(weights={"x/*": 35.0}, challenge_score=30, block_score=90))
    for round_, (name, weight) in enumerate(
        itertools.product(NAMES, [0.0, 20.0, 45.0, 100.0, -40.0])
    ):
        for detail in (f"first {round_}", f"again {round_}"):  # a cache miss, then a hit
            signal = Signal(name, weight, detail)
            fast, full = policy.evaluate([signal]), policy._evaluate([signal])
            assert fast == full
            assert fast.reasons[0].detail == detail


def test_a_signal_with_retry_after_takes_the_full_path() -> None:
    policy = Policy(PolicySettings())
    signal = Signal("ratelimit/pages/client", 0.0, "limited", retry_after=7.5)
    assert policy.evaluate([signal]).retry_after == 7.5


def test_several_signals_get_the_full_evaluations_verdict() -> None:
    """Two or three signals (a scraper's request often carries several): made once per
    combination of names and weights, each with this request's details."""
    policy = Policy(PolicySettings(weights={"x/*": 35.0}, challenge_score=30, block_score=90))
    weights = [0.0, 20.0, 45.0]
    for count in (2, 3):
        for round_, combination in enumerate(
            itertools.product(itertools.product(NAMES, weights), repeat=count)
        ):
            for detail in (f"first {round_}", f"again {round_}"):  # a cache miss, then a hit
                signals = [Signal(n, w, f"{detail} {i}") for i, (n, w) in enumerate(combination)]
                fast, full = policy.evaluate(signals), policy._evaluate(signals)
                assert fast == full
                assert [s.detail for s in fast.reasons] == [s.detail for s in full.reasons]
