"""Helpers for the rate-limit tests: a shield over a given store, and one request through it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scrapeshield import Settings, Shield
from scrapeshield.defences import RequestContext
from scrapeshield.settings import DEFAULT_ROUTE_GROUPS
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Decision
from scrapeshield.store import Store

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


def shield_for(
    store: Store, *, route_groups: list[dict[str, Any]] | None = None, **ratelimit: Any
) -> Shield:
    """Fixed windows unless told otherwise: they start at the first hit, so counts in these
    tests never depend on where the clock is (the contract suite covers every strategy).
    `route_groups`: added before the default route groups."""
    ratelimit.setdefault("strategy", "fixed-window")
    groups = [*(route_groups or ()), *DEFAULT_ROUTE_GROUPS]
    return Shield(Settings(ratelimit=ratelimit, route_groups=groups), store=store)


async def request(
    shield: Shield,
    *,
    ip: str = "203.0.113.7",
    path: str = "/",
    method: str = "GET",
    headers: Sequence[tuple[str, str]] = (),
    dry_run: bool = False,
    notes: dict[str, Any] | None = None,
) -> tuple[Decision, RequestContext]:
    ctx = shield.context(dry_run=dry_run)
    ctx.notes.update(notes or {})
    scope = synthetic_scope(method=method, path=path, ip=ip, user_agent=UA, headers=headers)
    decision = await shield.decide(shield.facts(scope), ctx)
    return decision, ctx


def header(ctx: RequestContext, name: str) -> str | None:
    for key, value in ctx.response_headers:
        if key.decode() == name:
            return value.decode()
    return None


def group(limits: str, **fields: Any) -> dict[str, Any]:
    """A `default` group; with the RateLimit fields on (these tests read them; the shipped
    page groups send none, docs/rate-limiting.md)."""
    fields.setdefault("headers", True)
    return {"default": {"limits": limits, **fields}}
