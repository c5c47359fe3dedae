"""A request with one signal takes the policy's cached path: the same verdict as the full
evaluation, with this request's own signal detail, whatever the name, weight or repeat."""

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
