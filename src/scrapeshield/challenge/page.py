"""The challenge page and the machine-readable refusal.

The page (template `challenge.html`, pages/) is self-contained (inline style, script and a blob
Web Worker; no third-party resources) and carries its own Content-Security-Policy with a
per-response script nonce. Its script and worker are package data (`static/`).
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from functools import cache
from importlib import resources
from typing import Any

from markupsafe import Markup
from starlette.responses import JSONResponse, Response

from scrapeshield.facts import Facts
from scrapeshield.pages.site import Pages

NAVIGATION_METHODS = frozenset({"GET"})
_UNSAFE_PATH = frozenset("\\\r\n\t\0")


@cache
def _asset(name: str) -> str:
    return resources.files("scrapeshield.challenge").joinpath("static", name).read_text("utf-8")


@cache
def _script(name: str) -> Markup:
    """A packaged script, as markup (ours, not escaped), made once: the same object on every
    page, so the page cache hashes it once."""
    return Markup(_asset(name))  # noqa: S704


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
    pages: Pages,
    facts: Facts,
    *,
    token: str,
    nonce: str,
    difficulty: int,
    action: str,
    status: int,
    request_id: str,
    wait_url: str | None,
    wait_seconds: float,
) -> Response:
    """The page in the request's language (template `challenge.html`); its script runs under a
    fresh nonce that the template receives as `nonce`."""
    script_nonce = secrets.token_urlsafe(16)
    language = pages.language(facts)
    messages = pages.script_texts(language)
    config = {"nonce": nonce, "difficulty": difficulty, "messages": messages}
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
    return pages.response(
        "challenge.html",
        facts,
        request_id,
        status,
        headers,
        language=language,
        nonce=script_nonce,
        form_action=action,
        token=token,
        # Safe by construction: JSON with <, > and & escaped, and the package's own scripts.
        config=Markup(_script_json(config)),  # noqa: S704
        worker_js=_script("worker.js"),
        challenge_js=_script("challenge.js"),
        wait_url=wait_url,
        wait_seconds=max(1, round(wait_seconds)),
    )


def refusal(status: int, message: str, request_id: str, terms_url: str | None) -> Response:
    """For clients that are not navigating (APIs, images): JSON, never an HTML page."""
    body: dict[str, Any] = {"error": "challenge", "message": message, "request_id": request_id}
    if terms_url:
        body["terms"] = terms_url
    return JSONResponse(body, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


def failure_page(
    pages: Pages, facts: Facts, status: int, reason: str, retry_path: str, request_id: str
) -> Response:
    """A failed verification: say so and offer a fresh try (no automatic loop)."""
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    return pages.response(
        "failed.html", facts, request_id, status, headers, reason=reason, retry_url=retry_path
    )
