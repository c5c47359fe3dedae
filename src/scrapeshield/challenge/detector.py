"""The pass-cookie detector: a valid pass lowers the score and answers challenges.

The policy never challenges a client with a valid pass (by rule or by score), but rate limits,
bans, the blocklist and blocking rules decide by rule or phase, so a `challenge/passed` signal
cannot lift them. The weight can be changed in `policy.weights`.
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.challenge.core import Challenge
from scrapeshield.challenge.tokens import TokenError
from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.signals import CHALLENGE_PASSED, Signal

PASS_WEIGHT = -40.0  # takes a client from the default challenge threshold (40) back to 0


class PassDetector(Immediate):
    name = "challenge-pass"
    uses_store = False

    def __init__(self, challenge: Challenge) -> None:
        self._challenge = challenge
        self._cookie = challenge.config.cookie_name

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        value = facts.cookie(self._cookie)
        if not value:
            return ()
        challenge = self._challenge
        try:
            token = challenge.signer.verify("pass", value, binding=challenge.binding(facts))
        except TokenError as exc:
            if exc.reason == "expired":
                return ()
            return (Signal("challenge/pass-rejected", 0.0, f"pass cookie: {exc.reason}"),)
        how = str(token.payload.get("m", "pow"))
        return (Signal(CHALLENGE_PASSED, PASS_WEIGHT, f"valid pass ({how})"),)
