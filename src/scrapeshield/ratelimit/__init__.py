"""Rate limiting on `limits`: route groups, client/network/user keys, cost, escalation, headers.

Owns the limits' plan per request, the memory and Redis backends (the Lua script in `lua/`),
escalation to bans, the RateLimit response fields, and the settings section. May import the
pipeline core (`detector`, `facts`, `client`, `bans`, `patterns`, `store`); never `shield`,
`middleware` or another defence. The detector lives in `scrapeshield.ratelimit.detector`; this
package root imports only the settings section, so `scrapeshield.settings` can import it
without a cycle.
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
