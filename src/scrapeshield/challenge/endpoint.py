"""The verification endpoint: check an answer, set the pass cookie, redirect back.

    POST {path}        token=<signed challenge>&counter=<n>   (the page's proof of work)
    GET  {path}?wait=<signed, time-locked token>              (the <noscript> fallback)

It is answered before the pipeline, like robots.txt: a challenged client must be able to
answer. Each check is cheap (one HMAC per key, one SHA-256) and the body is bounded. A page's
work and its no-JS link share one nonce, recorded in the store once redeemed (for
`challenge_ttl`, the longest either token lives), so one page buys one pass, whichever way it is
answered; if the store is down the answer is still accepted (it is bound to the client and
expires anyway).
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from scrapeshield.actions import wants_html
from scrapeshield.challenge.core import FAILED, PASSED, Challenge
from scrapeshield.challenge.page import failure_page, refusal, safe_return_path
from scrapeshield.challenge.pow import check, parse_counter
from scrapeshield.challenge.tokens import TokenError
from scrapeshield.errors import StoreUnavailable
from scrapeshield.facts import Facts
from scrapeshield.signals import Action, Decision, Signal

logger = logging.getLogger("scrapeshield")

MAX_BODY = 4096


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    reason: str
    back: str = "/"
    detail: str = ""
    method: str = "pow"


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes | None:
    """The request body, or None if it is larger than `limit` or the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _form(text: str) -> dict[str, str]:
    try:
        pairs = urllib.parse.parse_qsl(text, max_num_fields=8, keep_blank_values=True)
    except ValueError:
        return {}
    return dict(pairs)


def _small_int(text: str | None) -> int | None:
    if text and len(text) <= 12 and text.isascii() and text.isdigit():
        return int(text)
    return None


class ChallengeEndpoint:
    def __init__(self, challenge: Challenge) -> None:
        self._challenge = challenge
        self.path = challenge.config.path

    def matches(self, facts: Facts) -> bool:
        return facts.path == self.path

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self._answer(facts, receive)
        except Exception:
            logger.exception("challenge endpoint failed on request %s", facts.request_id)
            response = PlainTextResponse("verification is unavailable; please retry", 503)
        await response(scope, receive, send)

    async def _answer(self, facts: Facts, receive: Receive) -> Response:
        if facts.method == "POST":
            body = await read_body(receive)
            outcome = await self._verify_work(facts, _form(body.decode("latin-1")) if body else {})
        elif facts.method == "GET":
            outcome = await self._verify_wait(facts, _form(facts.query).get("wait", ""))
        else:
            return PlainTextResponse("method not allowed", 405, {"Allow": "GET, POST"})
        await self._log(facts, outcome)
        if not outcome.ok:
            status = 403
            if wants_html(facts):
                pages = self._challenge.pages
                return failure_page(
                    pages, facts, status, outcome.reason, outcome.back, facts.request_id
                )
            return refusal(status, f"verification failed: {outcome.reason}", facts.request_id, None)
        return self._pass(facts, outcome)

    async def _verify_work(self, facts: Facts, form: dict[str, str]) -> Outcome:
        challenge = self._challenge
        try:
            token = challenge.signer.verify(
                "pow", form.get("token", ""), binding=challenge.binding(facts)
            )
        except TokenError as exc:
            return Outcome(False, exc.reason, self._back(exc.payload))
        payload = token.payload
        back = self._back(payload)
        counter = parse_counter(form.get("counter", ""))
        nonce, difficulty = payload.get("n"), payload.get("d")
        if counter is None or not isinstance(nonce, str) or not isinstance(difficulty, int):
            return Outcome(False, "malformed", back)
        if not check(nonce, counter, difficulty):
            return Outcome(False, "work", back)
        if not await self._first_use(nonce):
            return Outcome(False, "replay", back)
        elapsed, hashes = _small_int(form.get("elapsed")), _small_int(form.get("hashes"))
        detail = f"pow d={difficulty} counter={counter} client_ms={elapsed} hashes={hashes}"
        return Outcome(True, "ok", back, detail, "pow")

    async def _verify_wait(self, facts: Facts, text: str) -> Outcome:
        challenge = self._challenge
        try:
            token = challenge.signer.verify("wait", text, binding=challenge.binding(facts))
        except TokenError as exc:
            return Outcome(False, exc.reason, self._back(exc.payload))
        payload = token.payload
        back = self._back(payload)
        not_before, nonce = payload.get("nbf"), payload.get("n")
        if not isinstance(not_before, int | float) or not isinstance(nonce, str):
            return Outcome(False, "malformed", back)
        if time.time() < not_before:
            return Outcome(False, "too-early", back)
        if not await self._first_use(nonce):
            return Outcome(False, "replay", back)
        return Outcome(True, "ok", back, "noscript wait", "wait")

    async def _first_use(self, nonce: str) -> bool:
        config = self._challenge.config
        if not config.replay_protection:
            return True
        try:
            uses = await self._challenge.store.incr(
                f"challenge:used:{nonce}", 1, ttl=config.challenge_ttl
            )
        except StoreUnavailable:
            return True  # bound to this client and expiring: a replay buys nothing new
        return uses == 1

    @staticmethod
    def _back(payload: dict[str, Any] | None) -> str:
        raw = str(payload.get("r", "/")) if payload else "/"
        path, _, query = raw.partition("?")
        return safe_return_path(urllib.parse.unquote(path), query)

    def _pass(self, facts: Facts, outcome: Outcome) -> Response:
        challenge = self._challenge
        config = challenge.config
        now = time.time()
        expires = round(now + config.cookie_ttl)
        payload = {"b": challenge.binding(facts), "iat": round(now), "exp": expires}
        cookie = challenge.signer.sign("pass", {**payload, "m": outcome.method})
        response = RedirectResponse(outcome.back, 303, {"Cache-Control": "no-store"})
        response.set_cookie(
            config.cookie_name,
            cookie,
            max_age=int(config.cookie_ttl),
            path="/",
            secure=facts.scheme == "https",
            httponly=True,
            samesite="lax",
        )
        return response

    async def _log(self, facts: Facts, outcome: Outcome) -> None:
        event = PASSED if outcome.ok else FAILED
        action = Action.ALLOW if outcome.ok else Action.CHALLENGE
        name = PASSED if outcome.ok else f"{FAILED}/{outcome.reason}"
        decision = Decision(
            action=action,
            rule=event,
            reasons=(Signal(name, 0.0, outcome.detail or outcome.reason),),
            enforced=self._challenge.enforcing,
            client_key=facts.client_key,
            request_id=facts.request_id,
        )
        try:
            await self._challenge.log(decision, facts, event=event)
        except Exception:
            logger.exception("challenge: could not write the block log")
