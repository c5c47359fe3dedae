"""A pass answers the doubts a challenge can answer (`pass_answers`), and nothing else.

The adversaries: a client with no User-Agent, a self-declared tool or a copied header set that
solves the published proof of work in Python and keeps the pass. Before, the pass took 40 off
every score; now their signals keep their weight and the challenge they earn is not answered.
"""

from __future__ import annotations

import pytest

from scrapeshield.policy import Policy
from scrapeshield.settings import PolicySettings
from scrapeshield.signals import CHALLENGE_PASSED, Action, Signal

pytestmark = pytest.mark.clock_hour

PASS = Signal(CHALLENGE_PASSED, 0.0)


def test_a_pass_answers_a_rule_challenge_raised_by_an_answered_signal() -> None:
    policy = Policy(PolicySettings())
    limit = Signal("ratelimit/pages/client/challenge", 0.0, retry_after=5)
    assert policy.evaluate([limit]).action is Action.CHALLENGE
    verdict = policy.evaluate([limit, PASS])  # answered; the limit itself still throttles
    assert (verdict.action, verdict.rule) == (Action.THROTTLE, "rate-limit")


@pytest.mark.parametrize(
    "signal",
    [
        Signal("ua/empty", 50.0),
        Signal("ua/bot-like", 45.0),
        Signal("ua/category/other-bot", 45.0),
        Signal("headers/no-accept-language", 20.0),
        Signal("headers/http10", 20.0),
    ],
    ids=lambda s: s.name,
)
def test_a_pass_never_lowers_a_not_a_browser_signal(signal: Signal) -> None:
    policy = Policy(PolicySettings())
    bare = policy.evaluate([signal, Signal("headers/no-accept-encoding", 20.0)])
    held = policy.evaluate([signal, Signal("headers/no-accept-encoding", 20.0), PASS])
    assert held.score == bare.score
    assert bare.action is Action.CHALLENGE or bare.action is Action.BLOCK
    assert held.action is Action.BLOCK
    if bare.action is Action.CHALLENGE:
        assert held.rule == "unanswered/score/challenge"


def test_a_tool_that_solved_the_work_is_not_let_in_by_a_rule_challenge() -> None:
    policy = Policy(PolicySettings())
    headless = Signal("ua/category/headless-browser", 50.0)
    assert policy.evaluate([headless]).action is Action.CHALLENGE
    verdict = policy.evaluate([headless, PASS])
    assert (verdict.action, verdict.rule) == (Action.BLOCK, "unanswered/headless-browser")


def test_a_pass_answers_behaviour_doubts() -> None:
    policy = Policy(PolicySettings())
    doubts = [Signal("behaviour/images-without-pages", 30.0), Signal("behaviour/no-assets", 25.0)]
    assert policy.evaluate(doubts).action is Action.CHALLENGE
    verdict = policy.evaluate([*doubts, PASS])
    assert (verdict.action, verdict.score) == (Action.ALLOW, 0.0)
    assert all("answered by the challenge pass" in s.detail for s in verdict.reasons[:2])


def test_answered_and_unanswered_doubts_together() -> None:
    policy = Policy(PolicySettings())
    mixed = [Signal("behaviour/no-assets", 25.0), Signal("headers/chromium-no-sec-fetch", 25.0)]
    assert policy.evaluate(mixed).action is Action.CHALLENGE
    assert policy.evaluate([*mixed, PASS]).action is Action.ALLOW  # 25 left: below 40
    strong = [*mixed, Signal("headers/chromium-no-client-hints", 15.0)]
    verdict = policy.evaluate([*strong, PASS])
    assert (verdict.action, verdict.rule, verdict.score) == (
        Action.BLOCK,
        "unanswered/score/challenge",
        40.0,
    )


def test_a_pass_never_lifts_a_throttle_block_or_budget_refusal() -> None:
    policy = Policy(PolicySettings())
    limited = Signal("ratelimit/pages/client", 0.0, retry_after=5)
    assert policy.evaluate([limited, PASS]).action is Action.THROTTLE
    ai = Signal("ua/category/ai-training", 100.0)
    assert policy.evaluate([ai, PASS]).action is Action.BLOCK
    refused = Signal("budget/visitor/hour/refuse", 0.0, "481 originals, refused above 480")
    assert policy.evaluate([refused, PASS]).action is Action.DECOY
    # below the refuse mark a budget's challenge is answered: a person solves once, goes on
    budget = Signal("budget/visitor/hour", 0.0, "301 of 300 originals")
    assert policy.evaluate([budget]).action is Action.CHALLENGE
    assert policy.evaluate([budget, PASS]).action is Action.ALLOW


def test_a_pass_with_no_doubt_left_answers_a_threshold_below_zero() -> None:
    """Tests and demos challenge everyone with challenge_score < 0: a pass must still let in."""
    policy = Policy(PolicySettings(challenge_score=-10))
    assert policy.evaluate([]).action is Action.CHALLENGE
    assert policy.evaluate([PASS]).action is Action.ALLOW


def test_the_operator_chooses_what_a_pass_answers() -> None:
    policy = Policy(PolicySettings(pass_answers=["headers/*"]))
    verdict = policy.evaluate([Signal("headers/no-accept-language", 45.0), PASS])
    assert verdict.action is Action.ALLOW
    nothing = Policy(PolicySettings(pass_answers=[]))
    doubts = [Signal("behaviour/no-assets", 25.0), Signal("behaviour/sequential-ids", 20.0)]
    assert nothing.evaluate([*doubts, PASS]).action is Action.BLOCK


def test_an_operator_weight_on_the_pass_still_applies() -> None:
    policy = Policy(PolicySettings(weights={CHALLENGE_PASSED: -40.0}))
    verdict = policy.evaluate([Signal("x/weak", 90.0), Signal(CHALLENGE_PASSED, 0.0)])
    assert (verdict.action, verdict.score) == (Action.BLOCK, 50.0)
