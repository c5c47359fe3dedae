"""A solved challenge answers every challenge (by rule or by score), and nothing else."""

from __future__ import annotations

from scrapeshield.policy import Policy
from scrapeshield.settings import PolicySettings
from scrapeshield.signals import CHALLENGE_PASSED, Action, Signal

PASS = Signal(CHALLENGE_PASSED, -40.0)


def test_a_pass_answers_a_rule_challenge() -> None:
    policy = Policy(PolicySettings())
    headless = Signal("ua/category/headless-browser", 50.0)
    assert policy.evaluate([headless]).action is Action.CHALLENGE
    verdict = policy.evaluate([headless, PASS])
    assert (verdict.action, verdict.rule) == (Action.ALLOW, "allow")


def test_a_pass_answers_a_score_challenge_but_not_a_block() -> None:
    policy = Policy(PolicySettings(challenge_score=40, block_score=80))
    assert policy.evaluate([Signal("x/weak", 90.0)]).action is Action.BLOCK
    assert policy.evaluate([Signal("x/weak", 90.0), PASS]).action is Action.ALLOW
    assert policy.evaluate([Signal("x/strong", 130.0), PASS]).action is Action.BLOCK


def test_a_pass_never_lifts_a_throttle_or_block_rule() -> None:
    policy = Policy(PolicySettings())
    limited = Signal("ratelimit/pages/client", 0.0, retry_after=5)
    assert policy.evaluate([limited, PASS]).action is Action.THROTTLE
    ai = Signal("ua/category/ai-training", 100.0)
    assert policy.evaluate([ai, PASS]).action is Action.BLOCK
