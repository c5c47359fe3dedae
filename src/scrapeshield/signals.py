"""The vocabulary every stage shares: signals in, one decision out."""

from __future__ import annotations

import enum
from typing import Any

import msgspec

CHALLENGE_PASSED = "challenge/passed"
"""The signal of a valid pass cookie: it answers the doubts a challenge can answer (the policy's
`pass_answers`), and lifts nothing else."""


class Action(enum.StrEnum):
    """What the middleware does with a request, from mildest to harshest."""

    ALLOW = "allow"
    CHALLENGE = "challenge"
    THROTTLE = "throttle"
    TARPIT = "tarpit"
    DECOY = "decoy"
    BLOCK = "block"
    BAN = "ban"


class Signal(msgspec.Struct, frozen=True):
    """One observation about a request, named like `ua/category/ai-training`, with a weight.

    Positive weights push towards blocking, negative ones (a solved challenge, a verified bot)
    towards allowing. `retry_after` is set by signals that know when the client may try again.
    """

    name: str
    weight: float
    detail: str = ""
    retry_after: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "weight": self.weight}
        if self.detail:
            out["detail"] = self.detail
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out


class Decision(msgspec.Struct, frozen=True):
    """The outcome of one pass: what to do, why (`rule` and `reasons`) and whether it is enforced.

    `enforced` is false in monitor mode: the decision is logged as it would have been applied,
    and the request passes. The decision is attached to the request as
    `request.state.scrapeshield` so the application can read it.
    """

    action: Action
    rule: str
    score: float = 0.0
    reasons: tuple[Signal, ...] = ()
    enforced: bool = True
    client_key: str = ""
    request_id: str = ""
    retry_after: float | None = None
    ban_for: float | None = None
    status: int | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        """True when the application will see the request (allow, or anything in monitor mode)."""
        return self.action is Action.ALLOW or not self.enforced
