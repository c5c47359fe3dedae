"""Responses for enforced decisions: 403 block/ban, 429 throttle, 503 fail-closed.

`decoy` and `tarpit` have their own handlers (deterrents/): a degraded image on image routes,
and a delay before the refusal. Without them (their handler declined) they are refusals too:
403, or 429 for a tarpit that a rate limit decided.

Pages are short, name the site's terms of service and carry the request id, so a person who is
blocked by mistake can report it. HTML for browsers (templates and languages: `pages/`), JSON
for everything else (by `Accept`; its `message` stays English, for programs).
An operator's `responder(decision, facts)` may return its own ASGI response instead.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import JSONResponse, Response

from scrapeshield.facts import Facts
from scrapeshield.pages.site import Pages
from scrapeshield.settings import Settings
from scrapeshield.signals import Action, Decision

# What a refusal calls itself: a tarpit or decoy refusal never names the action.
_ERRORS = {503: "unavailable", 429: "throttle"}
_QUIET = {Action.TARPIT: "block", Action.DECOY: "block"}


def status_for(decision: Decision) -> int:
    if decision.status is not None:
        return decision.status
    if decision.action is Action.THROTTLE:
        return 429
    if decision.action is Action.TARPIT and decision.retry_after is not None:
        return 429
    return 403


def wants_html(facts: Facts) -> bool:
    accept = facts.header("accept")
    return "text/html" in accept or "application/xhtml" in accept


def default_response(
    decision: Decision, facts: Facts, settings: Settings, pages: Pages
) -> Response:
    status = status_for(decision)
    # No X-Robots-Tag: a refusal is not a page of the site, and `noindex` on a 429 to a verified
    # crawler must not de-index the page it asked for (only challenge pages say noindex).
    headers = {"Cache-Control": "no-store"}
    retry_after = None
    if decision.retry_after is not None and status in (429, 503):
        retry_after = max(1, math.ceil(decision.retry_after))
        headers["Retry-After"] = str(retry_after)
    if wants_html(facts):
        name = _PAGES.get(status, "block.html")
        values: dict[str, Any] = {"action": decision.action.value, "retry_after": retry_after}
        return pages.response(name, facts, decision.request_id, status, headers, **values)
    body: dict[str, Any] = {
        "error": _ERRORS.get(status) or _QUIET.get(decision.action, decision.action.value),
        "message": _explain(decision, status),
        "request_id": decision.request_id,
    }
    if settings.terms_url:
        body["terms"] = settings.terms_url
    if retry_after is not None:
        body["retry_after"] = retry_after
    return JSONResponse(body, status, headers)


_PAGES = {503: "unavailable.html", 429: "throttle.html"}


def _explain(decision: Decision, status: int) -> str:
    if status == 503:
        return "The site cannot verify requests right now. Please try again shortly."
    if status == 429:
        return "You have sent too many requests. Please slow down and try again later."
    if decision.action is Action.CHALLENGE:
        return "Automated access to this site is restricted; please verify you are a person."
    return "Automated access to this site's content is not permitted."
