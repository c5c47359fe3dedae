"""ScrapeShield: the pure ASGI middleware. It orchestrates one pass and holds no detection logic.

    app.add_middleware(ScrapeShield, settings=Settings.from_file("scrapeshield.toml"))
    app = ScrapeShield(django_asgi_app, settings=Settings())

Non-HTTP scopes (websocket, lifespan) pass straight through, and so do requests for one of the
`health_paths` (before any directive, detector or store call: a load balancer's probe must never be
challenged, counted or failed closed). The decision is attached to the
request as `request.state.scrapeshield` (i.e. `scope["state"]["scrapeshield"]`). Route marks
(`scrapeshield.route`, `[routes.<name>]`) are read once here, from the router under the wrapped
app's middleware (or `scope["app"]` at the first request): see `route_index`. Nothing here
raises into the application: an internal error is logged and the request fails open (or closed,
if configured).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable
from functools import partial
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrapeshield.detector import RequestContext
from scrapeshield.directives.base import BodyRewriter
from scrapeshield.directives.headers import DirectiveHeaders
from scrapeshield.directives.served import APP_SCOPE_KEY
from scrapeshield.evidence.served import names_agent
from scrapeshield.facts import Facts
from scrapeshield.metrics.timing import entered
from scrapeshield.route_index import find_routes
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield
from scrapeshield.signals import Action, Decision

logger = logging.getLogger("scrapeshield")

STATE_KEY = "scrapeshield"
_ALLOW = Action.ALLOW  # a module global, not an enum member read through its class (shield.py)


class ScrapeShield:
    def __init__(
        self, app: ASGIApp, *, settings: Settings | None = None, shield: Shield | None = None
    ) -> None:
        self.app = app
        self.shield = shield if shield is not None else Shield(settings)
        self._owns_shield = shield is None  # then its store is closed here, on shutdown
        self.settings = self.shield.settings
        self._off = self.settings.mode == "off"  # settings are frozen
        self._health = self.shield.health_paths  # a frozenset: one lookup per request
        # The facts and the context as `Shield.facts` and `Shield.context()` make them, made
        # here without a call of theirs a request (~1.5k instructions); a subclass's own, if
        # it writes them, called as before.
        plain = type(self.shield).facts is Shield.facts
        self._facts = self.shield.facts_builder.build if plain else self.shield.facts
        self._own_context = type(self.shield).context is Shield.context
        # Filters that adjust the request the app sees (image metadata drops `Range`), found
        # once: with none configured, a request pays nothing for them.
        self._scope_rewriters = [
            f.request_scope for f in self.shield.response_filters if hasattr(f, "request_scope")
        ]
        # Filters that only add headers and never wait (the shipped directive headers): added
        # by a plain function, without a coroutine per response; None when one may do more.
        # Like the scope rewriters, read from `shield.response_filters` once, here.
        self._headers_now = _headers_now(self.shield.response_filters)
        # The shipped case, the directive headers alone: their answer found by dict lookups
        # (`DirectiveHeaders.added`), a shared tuple, for the path the request was for.
        self._added = _added(self._headers_now, self.shield.response_filters)
        routes = find_routes(app)  # the router under the app's other middleware, if any
        if routes is not None:
            self.shield.bind_routes(routes)  # marks read once; a bad one fails here
        if self.shield.metrics is not None and type(self) is ScrapeShield:
            # Metrics on: the metered class (below), so with them off nothing of them runs.
            self.__class__ = _Metered
            self.app = entered(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._off:
            if scope["type"] == "lifespan" and self._owns_shield:
                send = partial(_closing_on_shutdown, self.shield, send)
            await self.app(scope, receive, send)
            return
        if scope.get("path") in self._health:
            scope.setdefault("state", {})[STATE_KEY] = self.shield.health_decision()
            await self.app(scope, receive, send)
            return
        shield = self.shield
        try:
            facts = self._facts(scope)
        except Exception:
            logger.exception("scrapeshield could not read the request; passing it through")
            await self.app(scope, receive, send)
            return

        try:
            endpoint = shield.endpoint_for(facts)
        except Exception:
            logger.exception("scrapeshield directive endpoint lookup failed; deciding as usual")
            endpoint = None
        if endpoint is not None:
            # A copy carrying the wrapped app, for endpoints that combine with it (robots merge).
            await endpoint(facts, {**scope, APP_SCOPE_KEY: self.app}, receive, send)
            if shield.served is not None and facts.path == "/robots.txt":  # evidence
                await self._log_served(None, facts)
            return

        ctx = RequestContext(shield.store, [], False, {}) if self._own_context else shield.context()
        try:
            found = shield.decide_now(facts, ctx)
            decision = found if isinstance(found, Decision) else await found
        except Exception as exc:
            logger.exception("scrapeshield pipeline failed on request %s", facts.request_id)
            decision = shield.failure_decision(facts, exc)

        if (state := scope.get("state")) is None:  # (no `setdefault`: no dict made in vain)
            state = scope["state"] = {}
        state[STATE_KEY] = decision
        if decision.action is not _ALLOW or decision.status is not None:
            await self._log(decision, facts)
            if decision.enforced:
                response = await self._response(decision, facts)
                if response is not None:
                    if decision.action is Action.DECOY and shield.response_filters:
                        # An image as the app would send it: the same directive headers.
                        send = self._wrap_send(send, facts, decision, ctx.response_headers)
                    elif ctx.response_headers:  # e.g. RateLimit fields belong on a 429 too
                        send = partial(_append_headers, ctx.response_headers, send)
                    await response(scope, receive, send)
                    return
        elif decision.reasons and shield.served is not None and names_agent(decision):
            await self._log_served(decision, facts)  # evidence: a catalogued crawler served

        extra = ctx.response_headers
        if ctx.app_headers:  # (rare: a page that issues a visitor token)
            extra = [*extra, *ctx.app_headers]
        if self._added is not None:
            send = partial(_add_directives, self._added, facts.path, extra, send)
        elif self._headers_now is not None:
            send = partial(_add_headers, self._headers_now, facts, decision, extra, send)
        elif shield.response_filters:
            send = self._wrap_send(send, facts, decision, extra)
            if self._scope_rewriters:
                scope = await _request_scope(self._scope_rewriters, facts, scope)
        elif extra:  # only the context's headers (e.g. RateLimit): the lighter wrapper
            send = partial(_append_headers, extra, send)
        await self.app(scope, receive, send)

    async def _log(self, decision: Decision, facts: Facts) -> None:
        try:
            await self.shield.log(decision, facts)
        except Exception:
            logger.exception("scrapeshield could not write the block log")

    async def _log_served(self, decision: Decision | None, facts: Facts) -> None:
        try:
            if decision is None:
                await self.shield.log_robots_fetch(facts)
            else:
                await self.shield.log_served(decision, facts)
        except Exception:
            logger.exception("scrapeshield could not record a served request")

    async def _response(self, decision: Decision, facts: Facts) -> ASGIApp | None:
        try:
            return await self.shield.response_for(decision, facts)
        except Exception:
            logger.exception("scrapeshield responder failed; using the default response")
            from scrapeshield.actions import default_response

            return default_response(decision, facts, self.settings, self.shield.pages)

    def _wrap_send(
        self, send: Send, facts: Facts, decision: Decision, extra: list[tuple[bytes, bytes]]
    ) -> Send:
        filters = self.shield.response_filters
        rewriting = any(hasattr(f, "body_rewriter") for f in filters)
        rewriter: BodyRewriter | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal rewriter
            if rewriter is not None:
                await rewriter.body(message, send)
                return
            if message["type"] == "http.response.start":
                try:
                    original = list(message.get("headers") or ())
                    added = list(extra)
                    for response_filter in filters:
                        found = response_filter.headers_for(
                            facts, decision, message["status"], original
                        )
                        added += await found if inspect.isawaitable(found) else found
                    if added:
                        message["headers"] = original + added
                    if rewriting:
                        rewriter = await _body_rewriter(filters, facts, decision, message)
                except Exception:
                    logger.exception("scrapeshield could not add response headers")
                if rewriter is not None:
                    await rewriter.start(message, send)
                    return
            await send(message)

        return send_with_headers

    async def aclose(self) -> None:
        await self.shield.aclose()


async def _request_scope(rewriters: list[Any], facts: Facts, scope: Scope) -> Scope:
    """The scope the app sees: a filter may adjust its request headers (`request_scope`, e.g.
    image metadata drops `Range`, whose offsets would not match the file it sends)."""
    for rewrite in rewriters:
        try:
            scope = await rewrite(facts, scope)
        except Exception:
            logger.exception("scrapeshield could not adjust the request; passing it as is")
    return scope


class _Metered(ScrapeShield):
    """ScrapeShield with metrics on: the same pass, timed until the app is entered or
    scrapeshield's own response is sent, and its decision counted (metrics/core.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = self.shield.metrics
        if scope["type"] != "http" or metrics is None:
            await super().__call__(scope, receive, send)
            return
        started = perf_counter()
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                metrics.observe(scope, started, perf_counter())
            except Exception:  # never into the app
                logger.exception("scrapeshield could not count the request in its metrics")


async def _body_rewriter(
    filters: list[Any], facts: Facts, decision: Decision, message: Message
) -> BodyRewriter | None:
    """The first rewriter a filter offers for this response (see directives/base.py)."""
    for response_filter in filters:
        offer = getattr(response_filter, "body_rewriter", None)
        if offer is None:
            continue
        found = offer(facts, decision, message["status"], list(message.get("headers", [])))
        rewriter: BodyRewriter | None = await found if inspect.isawaitable(found) else found
        if rewriter is not None:
            return rewriter
    return None


async def _closing_on_shutdown(shield: Shield, send: Send, message: Message) -> None:
    """The app's lifespan `send`: a middleware that built its Shield from settings closes its
    store (a Redis connection) when the app has shut down, so no app has to wire it."""
    if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
        try:
            await shield.aclose()
        except Exception:
            logger.exception("scrapeshield could not close its store on shutdown")
    await send(message)


def _headers_now(filters: list[Any]) -> list[Any] | None:
    """Each filter's `headers_for`, when every filter answers at once (`answers_now`) and
    neither rewrites a body nor adjusts the request; else None (`_wrap_send` handles them)."""
    if not filters or any(
        not getattr(f, "answers_now", False)
        or hasattr(f, "body_rewriter")
        or hasattr(f, "request_scope")
        for f in filters
    ):
        return None
    return [f.headers_for for f in filters]


def _added(headers_now: list[Any] | None, filters: list[Any]) -> Any:
    """The directive headers' `added`, when they are the only filter and answer at once (no
    preference hook); else None. Their own class only: a subclass may answer otherwise."""
    if headers_now is None or len(filters) != 1 or type(filters[0]) is not DirectiveHeaders:
        return None
    return filters[0].added


def _add_directives(
    added: Any, path: str, extra: list[tuple[bytes, bytes]], send: Send, message: Message
) -> Awaitable[None]:
    """`_add_headers` for the directive headers alone (`_added`): the same headers in the same
    order (the app's, the context's, the filter's), the filter's a shared tuple."""
    if message["type"] == "http.response.start":
        try:
            original = message.get("headers") or ()
            if type(original) is not list:  # (any iterable: read once, as a list)
                original = list(original)
            ours = added(path, message["status"], original)
            if ours or extra:
                message["headers"] = [*original, *extra, *ours]
        except Exception:
            logger.exception("scrapeshield could not add response headers")
    return send(message)


def _add_headers(
    filters: list[Any],
    facts: Facts,
    decision: Decision,
    extra: list[tuple[bytes, bytes]],
    send: Send,
    message: Message,
) -> Awaitable[None]:
    """`send` adding the context's headers and the filters' to the response start, for filters
    that answer at once (see `_headers_now`): a plain function bound with `partial`."""
    if message["type"] == "http.response.start":
        try:
            original = list(message.get("headers") or ())
            added = list(extra)
            for headers_for in filters:
                added += headers_for(facts, decision, message["status"], original)
            if added:
                message["headers"] = original + added
        except Exception:
            logger.exception("scrapeshield could not add response headers")
    return send(message)


def _append_headers(
    extra: list[tuple[bytes, bytes]], send: Send, message: Message
) -> Awaitable[None]:
    """`send` adding the context's headers to the response start (no response filters).

    Bound with `partial` and returning the inner `send`'s awaitable, rather than a coroutine
    function's closure: no coroutine per message, no Python `__init__` per response.
    """
    if message["type"] == "http.response.start":
        message["headers"] = [*(message.get("headers") or ()), *extra]
    return send(message)
