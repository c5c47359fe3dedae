"""The `ratelimit` settings section: groups of routes with limits, keys, headers, escalation.

    [ratelimit]
    exempt = ["/static/*"]   # not counted, still fingerprinted (probes: top-level health_paths)

    [[route_groups]]          # which paths are `images`: the one place paths get a group
    name = "images"
    paths = ["/images/*"]

    [ratelimit.groups.images]  # what the `images` route group may spend
    limits = "300/10 seconds;5000/hour"
    cost = 1

Limits use the `limits` library's syntax (`"30/10 seconds;300/hour"`), checked at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import limits
from pydantic import Field, field_validator, model_validator

from scrapeshield.settings_base import Section

Strategy = Literal["sliding-window-counter", "moving-window", "fixed-window"]
GroupAction = Literal["throttle", "block", "challenge"]

VISITOR_NOTE = "visitor"
"""`ctx.notes` key of a valid visitor token's id (set by the identity detector, which runs
before the limiter): groups with `visitor_limits` key on it."""

VERIFIED_BOT_NOTE = "verified_bot"
"""The hook for verified bots: a detector that verified a crawler (reverse DNS, published ranges)
and runs before the store phase (`uses_store = False`) sets `ctx.notes[VERIFIED_BOT_NOTE]` to the
agent's catalogue name; `bot_groups` maps that name (or `"*"`) to the group whose limits apply
instead, so a verified bot is never limited below its own group."""


def check_limits(value: str) -> str:
    """An empty string means "no limit of this kind"; anything else must parse with `limits`."""
    text = value.strip()
    if text:
        try:
            limits.parse_many(text)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a limit list (expected e.g. '30/10 seconds;300/hour')"
            ) from None
    return text


class LimitGroupSpec(Section):
    """One group's limits, per key scope.

    A limit group covers the requests of the route group of the same name (top-level
    `route_groups`, or a route's `group` in code); `default` covers every other request. Paths are
    assigned to groups in one place only, `route_groups` (a limit group's own `paths`/`methods`
    were removed: a start-up error says where they go).
    `visitor_limits` key on the visitor token (identity), when the request holds a valid one.
    `headers`: send the RateLimit fields on this group's responses. Off by default: a scraper
    paces itself by them (an oracle); on for the default `api` group, whose clients use them.
    """

    limits: str = ""
    network_limits: str = ""
    user_limits: str = ""
    visitor_limits: str = ""
    headers: bool = False
    cost: int = Field(default=1, ge=1, le=1000)
    strategy: Strategy | None = None
    action: GroupAction = "throttle"

    _limits = field_validator("limits", "network_limits", "user_limits", "visitor_limits")(
        check_limits
    )

    @model_validator(mode="after")
    def _cost_fits(self) -> LimitGroupSpec:
        for text in (self.limits, self.network_limits, self.user_limits, self.visitor_limits):
            for item in limits.parse_many(text) if text else ():
                if item.amount < self.cost:
                    raise ValueError(f"cost {self.cost} exceeds the limit {text!r}")
        return self


class UserKeySpec(Section):
    """Where a logged-in user's id comes from: the first of header, cookie, callable to give one.

    Only use a header your own auth layer sets (and strips from client requests), or a signed
    session cookie: whatever is named here decides whose quota a request spends.
    """

    header: str | None = None
    cookie: str | None = None
    resolve: Callable[[Any], str | None] | None = Field(default=None, exclude=True)

    @field_validator("header")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value


class EscalationSpec(Section):
    """fail2ban style: `throttles` rejections of one client within `window` seconds ban it.

    The n-th ban of a client within `forget_after` seconds lasts `ban * factor**(n-1)` seconds,
    at most `max_ban`.
    """

    enabled: bool = True
    throttles: int = Field(default=20, ge=1)
    window: float = Field(default=600.0, gt=0)
    ban: float = Field(default=600.0, gt=0)
    factor: float = Field(default=4.0, ge=1)
    max_ban: float = Field(default=86_400.0, gt=0)
    forget_after: float = Field(default=7 * 86_400.0, gt=0)


DEFAULT_GROUPS = {
    # network_limits: a /24 (IPv6 /48) together, above the address, so rotating through a
    # network's addresses does not multiply the per-address limits (docs/rate-limiting.md;
    # sized for a busy office or campus NAT: five people at one person's full rate).
    "default": LimitGroupSpec(
        limits="60/10 seconds;1000/hour", network_limits="300/10 seconds;5000/hour"
    ),
    "images": LimitGroupSpec(
        limits="300/10 seconds;6000/hour", network_limits="1500/10 seconds;30000/hour"
    ),
    "thumbnails": LimitGroupSpec(
        limits="600/10 seconds;20000/hour", network_limits="3000/10 seconds;100000/hour"
    ),
    # CSS/JS/fonts: a browser fetches several per page (more with a cold cache); counting them
    # in `default` would throttle a person reading quickly.
    "assets": LimitGroupSpec(
        limits="600/10 seconds;20000/hour", network_limits="3000/10 seconds;100000/hour"
    ),
    "api": LimitGroupSpec(
        limits="30/10 seconds;500/hour", network_limits="150/10 seconds;2500/hour", headers=True
    ),
}


class RateLimitSettings(Section):
    """On by default with generous limits; `default` must exist (no path is silently exempt)."""

    enabled: bool = True
    strategy: Strategy = "sliding-window-counter"
    groups: dict[str, LimitGroupSpec] = DEFAULT_GROUPS
    exempt: list[str] = []
    ipv6_prefix: int = Field(default=64, ge=48, le=128)
    network_ipv4_prefix: int = Field(default=24, ge=8, le=32)
    network_ipv6_prefix: int = Field(default=48, ge=16, le=64)
    user: UserKeySpec = UserKeySpec()
    escalation: EscalationSpec = EscalationSpec()
    memory_backend: Literal["native", "limits"] = "native"
    headers: bool = True
    legacy_headers: bool = False
    bot_groups: dict[str, str] = {}

    @property
    def network_prefixes(self) -> tuple[int, int]:
        """The IPv4 and IPv6 prefixes of a client's network (its network limits' key)."""
        return (self.network_ipv4_prefix, self.network_ipv6_prefix)

    @field_validator("groups", mode="before")
    @classmethod
    def _no_group_paths(cls, groups: Any) -> Any:
        """`paths`/`methods` on a limit group overlapped `route_groups`; name the replacement."""
        if not isinstance(groups, dict):
            return groups
        moved = [
            f"ratelimit.groups.{name}.{key}"
            for name, spec in groups.items()
            if isinstance(spec, dict)
            for key in ("paths", "methods")
            if key in spec
        ]
        if moved:
            raise ValueError(
                f"{', '.join(moved)}: removed, paths are given groups in one place. Move them to "
                'the top-level route_groups ([[route_groups]] name = "<group>" paths = [...] '
                "methods = [...]); the limit group of the same name then applies "
                "(docs/rate-limiting.md#groups)"
            )
        return groups

    @field_validator("groups")
    @classmethod
    def _groups(cls, groups: dict[str, LimitGroupSpec]) -> dict[str, LimitGroupSpec]:
        if "default" not in groups:
            raise ValueError(
                "a 'default' group is required: unmatched paths are never silently exempt "
                "(list exemptions in ratelimit.exempt)"
            )
        for name in groups:
            if not name or not all(c.isalnum() or c in "_.-" for c in name):
                raise ValueError(f"group name {name!r} may use only letters, digits, _ . -")
        return groups

    @model_validator(mode="after")
    def _bot_groups(self) -> RateLimitSettings:
        for agent, group in self.bot_groups.items():
            if group not in self.groups:
                raise ValueError(f"bot_groups[{agent!r}] names the unknown group {group!r}")
        return self
