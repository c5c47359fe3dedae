"""A leased request's decision: the grant's, with the request's own client key and id. Where
its lease replays a counted signal (docs/leases.md, "Replayed signals"), each replaying
detector rebuilds its signal for this request, and the decision is made from the signals as
the policy makes it, so it is the full evaluation's.

Where every replayed signal is the grant's (the same name and detail: an issuance limit whose
list of scopes did not change), the grant's decision is given as it is; where each keeps the
grant's name and weight (a no-assets count in its detail), the grant's verdict with the new
details: neither makes a policy call.
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
    anything but an allow (the shield's full path then decides it, challenge and all).

    Where each rebuilt signal keeps the grant's name and weight (and no retry time), the policy
    would see the grant's combination: its verdict is the grant's, with this request's details,
    so only the reasons are new (no policy call). One decision is made, with the request's own
    client key and id (`for_request`)."""
    granted = lease.decision
    if not lease.replays:  # (most leases: the grant's decision as it is)
        return for_request(granted, facts)
    if evaluate is None:
        return None
    used = len(lease.records) + 1
    reasons: list[Signal | None] = list(granted.reasons)
    changed, same = False, lease.plain
    for replay, state, at in lease.replays:
        signal = replay(state, facts, used)
        if signal is False:
            return None
        was = granted.reasons[at]
        if signal is None or signal.name != was.name or signal.detail != was.detail:
            reasons[at], changed = signal, True
            same = same and signal is not None and _weighs_as(signal, was)
    if not changed:
        return for_request(granted, facts)
    if same:  # (the grant's verdict: only the details differ)
        return msgspec.structs.replace(
            granted,
            reasons=tuple(reasons),  # (none is None: each kept its weight)
            client_key=facts.client_key,
            request_id=facts.request_id,
            extra={},
        )
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
        client_key=facts.client_key,
        request_id=facts.request_id,
        extra={},
    )


def for_request(granted: Decision, facts: Facts) -> Decision:
    """The grant's decision as this request's (its client key and request id)."""
    return msgspec.structs.replace(
        granted, client_key=facts.client_key, request_id=facts.request_id, extra={}
    )


def _weighs_as(signal: Signal, was: Signal) -> bool:
    """Whether the policy weighs `signal` as the grant's `was` (the same name, the weight it
    was given, no retry time): its verdict is then the grant's."""
    return signal.name == was.name and signal.weight == was.weight and signal.retry_after is None
