"""The challenge page and the machine-readable refusal, rendered from package data.

The page is self-contained (inline style, script and a blob Web Worker; no third-party
resources) and carries its own Content-Security-Policy with a per-response script nonce.
"""

from __future__ import annotations

import html
import json
import secrets
import urllib.parse
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response

from scrapeshield.facts import Facts

NAVIGATION_METHODS = frozenset({"GET"})
_UNSAFE_PATH = frozenset("\\\r\n\t\0")


@cache
def _asset(name: str) -> str:
    return resources.files("scrapeshield.challenge").joinpath("static", name).read_text("utf-8")


def is_navigation(facts: Facts, json_groups: frozenset[str]) -> bool:
    """A browser asking for a page: GET, accepts HTML, and not an API/image/asset route."""
    if facts.method not in NAVIGATION_METHODS or facts.route_group in json_groups:
        return False
    accept = facts.header("accept").lower()
    return "text/html" in accept or "application/xhtml" in accept


def safe_return_path(path: str, query: str = "") -> str:
    """A same-origin relative URL for the redirect after a pass; anything doubtful becomes `/`.

    `//host` and `/\\host` are treated by browsers as other origins, so they are refused.
    """
    if (
        not path.startswith("/")
        or path.startswith("//")
        or any(c in _UNSAFE_PATH for c in path)
        or not path.isprintable()
    ):
        return "/"
    quoted = urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")  # path is decoded
    if query:
        quoted += "?" + urllib.parse.quote(query, safe="/%:@!$&'()*+,;=-._~?")  # query is raw
    return quoted if len(quoted) <= 1024 else "/"


def _script_json(data: dict[str, Any]) -> str:
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def challenge_page(
    *,
    token: str,
    nonce: str,
    difficulty: int,
    action: str,
    status: int,
    site_name: str,
    terms_url: str | None,
    request_id: str,
    wait_url: str | None,
    wait_seconds: float,
) -> Response:
    script_nonce = secrets.token_urlsafe(16)
    site = html.escape(site_name)
    terms = ""
    if terms_url:
        terms = f' See the <a href="{html.escape(terms_url, quote=True)}">terms of service</a>.'
    refresh = note = ""
    if wait_url is not None:
        seconds = max(1, round(wait_seconds))
        target = html.escape(wait_url, quote=True)
        refresh = (
            f'<noscript><meta http-equiv="refresh" content="{seconds};url={target}"></noscript>'
        )
        note = (
            f"<noscript><p>JavaScript is off: you will be taken to the page in about {seconds} "
            f'seconds. If not, <a href="{target}">continue</a> after waiting.</p></noscript>'
        )
    body = Template(_asset("page.html")).substitute(
        site=site,
        terms=terms,
        noscript_refresh=refresh,
        noscript_note=note,
        action=html.escape(action, quote=True),
        token=html.escape(token, quote=True),
        request_id=html.escape(request_id),
        config=_script_json({"nonce": nonce, "difficulty": difficulty}),
        worker=_asset("worker.js"),
        script_nonce=script_nonce,
        script=_asset("challenge.js"),
    )
    headers = {
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{script_nonce}'; worker-src blob:; "
            "style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'"
        ),
    }
    return HTMLResponse(body, status, headers)


def refusal(status: int, message: str, request_id: str, terms_url: str | None) -> Response:
    """For clients that are not navigating (APIs, images): JSON, never an HTML page."""
    body: dict[str, Any] = {"error": "challenge", "message": message, "request_id": request_id}
    if terms_url:
        body["terms"] = terms_url
    return JSONResponse(body, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


def failure_page(status: int, reason: str, retry_path: str, request_id: str) -> Response:
    """A failed verification: say so and offer a fresh try (no automatic loop)."""
    retry = html.escape(retry_path, quote=True)
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        "<title>Verification failed</title><body style='font:16px/1.5 system-ui,sans-serif;"
        "max-width:36em;margin:4em auto;padding:0 1em'><h1>Verification failed</h1>"
        f"<p>The check could not be verified ({html.escape(reason)}).</p>"
        f'<p><a href="{retry}">Try again</a>.</p>'
        f"<p><small>Reference: <code>{html.escape(request_id)}</code></small></p></body></html>"
    )
    return HTMLResponse(page, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})
