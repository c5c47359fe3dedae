"""Rate limiting on `limits`: route groups, client/network/user keys, cost, escalation, headers.

The detector lives in `scrapeshield.ratelimit.detector`; this package root imports only the
settings section, so `scrapeshield.settings` can import it without a cycle.
"""

from scrapeshield.ratelimit.settings import (
    VERIFIED_BOT_NOTE,
    EscalationSpec,
    LimitGroupSpec,
    RateLimitSettings,
    UserKeySpec,
)

__all__ = [
    "VERIFIED_BOT_NOTE",
    "EscalationSpec",
    "LimitGroupSpec",
    "RateLimitSettings",
    "UserKeySpec",
]
