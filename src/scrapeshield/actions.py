"""Responses for enforced decisions: 403 block/ban, 429 throttle, 503 fail-closed.

`decoy` and `tarpit` have their own handlers (deterrents/): a degraded image on image routes,
and a delay before the refusal. Without them (their handler declined) they are refusals too:
403, or 429 for a tarpit that a rate limit decided.

Pages are short, name the site's terms of service and carry the request id, so a person who is
blocked by mistake can report it. HTML for browsers, JSON for everything else (by `Accept`).
An operator's `responder(decision, facts)` may return its own ASGI response instead.
"""

from __future__ import annotations

import html
import math
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response

from scrapeshield.facts import Facts
from scrapeshield.settings import Settings
from scrapeshield.signals import Action, Decision

_TITLES = {
    Action.BLOCK: "Access denied",
    Action.BAN: "Access denied",
    Action.THROTTLE: "Too many requests",
    Action.CHALLENGE: "Verification required",
    Action.TARPIT: "Access denied",
    Action.DECOY: "Access denied",
}


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


def default_response(decision: Decision, facts: Facts, settings: Settings) -> Response:
    status = status_for(decision)
    # No X-Robots-Tag: a refusal is not a page of the site, and `noindex` on a 429 to a verified
    # crawler must not de-index the page it asked for (only challenge pages say noindex).
    headers = {"Cache-Control": "no-store"}
    if decision.retry_after is not None and status in (429, 503):
        headers["Retry-After"] = str(max(1, math.ceil(decision.retry_after)))
    if status == 503:
        title = "Service temporarily unavailable"
    else:
        title = _TITLES[Action.THROTTLE] if status == 429 else _TITLES[decision.action]
    reason = _explain(decision, status)
    if wants_html(facts):
        return HTMLResponse(_page(title, reason, decision, settings), status, headers)
    body: dict[str, Any] = {
        "error": _ERRORS.get(status) or _QUIET.get(decision.action, decision.action.value),
        "message": reason,
        "request_id": decision.request_id,
    }
    if settings.terms_url:
        body["terms"] = settings.terms_url
    if "Retry-After" in headers:
        body["retry_after"] = int(headers["Retry-After"])
    return JSONResponse(body, status, headers)


def _explain(decision: Decision, status: int) -> str:
    if status == 503:
        return "The site cannot verify requests right now. Please try again shortly."
    if status == 429:
        return "You have sent too many requests. Please slow down and try again later."
    if decision.action is Action.CHALLENGE:
        return "Automated access to this site is restricted; please verify you are a person."
    return "Automated access to this site's content is not permitted."


def _page(title: str, reason: str, decision: Decision, settings: Settings) -> str:
    site = html.escape(settings.site_name)
    terms = ""
    if settings.terms_url:
        url = html.escape(settings.terms_url, quote=True)
        terms = f'<p>See the <a href="{url}">terms of service</a> of {site}.</p>'
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<body style='font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;"
        "padding:0 1em'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(reason)}</p>{terms}"
        "<p>If you are a person and think this is a mistake, contact the site with this "
        f"reference: <code>{html.escape(decision.request_id)}</code></p></body></html>"
    )
