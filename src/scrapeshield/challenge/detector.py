"""The pass-cookie detector: a valid pass answers the doubts a challenge can answer.

`challenge/passed` weighs nothing by itself: the policy counts the signals it answers
(`pass_answers`: behaviour, a browser's odd headers...) as 0, and a challenge verdict earned
from anything else (no User-Agent, a self-declared bot or tool, a budget) is not answered.
Rate limits, bans, the blocklist and blocking rules decide by rule or phase and are never
lifted. A pass won by waiting (the no-JS fallback) does not count on `noscript_pass_excludes`
route groups (the originals, by default): there it gives `challenge/pass-limited` instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.challenge.core import Challenge
from scrapeshield.challenge.tokens import TokenError
from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import Stateless
from scrapeshield.signals import CHALLENGE_PASSED, Signal

PASS_WEIGHT = 0.0  # a pass lowers nothing by itself; the policy offsets what it answers
PASS_LIMITED = "challenge/pass-limited"  # noqa: S105 (a signal name)
WAIT = "wait"


class PassDetector(Stateless, Immediate):
    name = "challenge-pass"
    uses_store = False

    def __init__(self, challenge: Challenge) -> None:
        self._challenge = challenge
        self._cookie = challenge.config.cookie_name
        self._wait_excluded = frozenset(challenge.config.noscript_pass_excludes)

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
        if how == WAIT and facts.route_group in self._wait_excluded:
            detail = f"a pass won without JavaScript does not open {facts.route_group}"
            return (Signal(PASS_LIMITED, 0.0, detail),)
        return (Signal(CHALLENGE_PASSED, PASS_WEIGHT, f"valid pass ({how})"),)
