"""A leased request's decision when its lease replays a counted signal (docs/leases.md,
"Replayed signals"): each replaying detector rebuilds its signal for this request, and the
decision is made from the signals as the policy makes it, so it is the full evaluation's.

Where every replayed signal is the grant's (the same name and detail: an issuance limit whose
list of scopes did not change), the grant's decision is given as it is, with no policy call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from scrapeshield.facts import Facts
from scrapeshield.lease.lease import Lease
from scrapeshield.policy import Verdict
from scrapeshield.signals import Action, Decision, Signal

Evaluate = Callable[[Sequence[Signal]], Verdict]


def replayed(lease: Lease, facts: Facts, evaluate: Evaluate | None) -> Decision | None:
    """This request's decision (before it is counted: `len(lease.records) + 1` leased so far),
    or None when it must be evaluated in full: a detector cannot say, or the signals would make
    anything but an allow (the shield's full path then decides it, challenge and all)."""
    granted = lease.decision
    if evaluate is None:
        return None
    used = len(lease.records) + 1
    reasons: list[Signal | None] = list(granted.reasons)
    changed = False
    for replay, state, at in lease.replays:
        signal = replay(state, facts, used)
        if signal is False:
            return None
        was = granted.reasons[at]
        if signal is None or signal.name != was.name or signal.detail != was.detail:
            reasons[at], changed = signal, True
    if not changed:
        return granted
    verdict = evaluate([s for s in reasons if s is not None])
    if verdict.action is not Action.ALLOW:
        return None
    return msgspec.structs.replace(
        granted,
        rule=verdict.rule,
        score=verdict.score,
        reasons=verdict.reasons,
        retry_after=verdict.retry_after,
        ban_for=verdict.ban_for,
    )
