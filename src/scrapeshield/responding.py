"""How a decision is answered: its action's handler (the challenge page, a decoy...), the
operator's `responder` (asked first for every refusal, docs/pages.md), else the default page.
A concern of its own, apart from how the decision is reached (`shield`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec
from starlette.types import ASGIApp

from scrapeshield.actions import default_response
from scrapeshield.deterrents.decoy import Decoy
from scrapeshield.deterrents.tarpit import Tarpit
from scrapeshield.facts import Facts
from scrapeshield.pages.site import Pages
from scrapeshield.settings import Settings
from scrapeshield.signals import Action, Decision

logger = logging.getLogger("scrapeshield")

ActionHandler = Callable[[Decision, Facts], Awaitable[ASGIApp | None]]
EventNamer = Callable[[Decision, Facts], str]
DECOY_EVENT, TARPIT_EVENT = "decoy", "tarpit"  # block-log events of enforced deterrents


def event_named(event: str) -> EventNamer:
    def namer(decision: Decision, facts: Facts) -> str:
        return event if decision.enforced else "decision"

    return namer


class Responses:
    """The response for a decision. `handlers` is the shield's own dict (the challenge and the
    deterrents add theirs as they are installed)."""

    def __init__(
        self, settings: Settings, pages: Pages, handlers: dict[Action, ActionHandler]
    ) -> None:
        self.settings, self.pages, self.handlers = settings, pages, handlers
        self.tarpit: Tarpit | None = None

    def install_deterrents(
        self, threshold: float, log_events: dict[Action, EventNamer]
    ) -> tuple[Decoy, Tarpit]:
        """The decoy and tarpit actions: their responses and block-log events."""
        decoy = Decoy(self.settings.decoy)
        self.tarpit = Tarpit(self.settings.tarpit, threshold=threshold)
        self.handlers[Action.DECOY] = decoy.respond
        self.handlers[Action.TARPIT] = self._tarpit_response
        log_events[Action.DECOY] = event_named(DECOY_EVENT)
        log_events[Action.TARPIT] = event_named(TARPIT_EVENT)
        return decoy, self.tarpit

    async def _tarpit_response(self, decision: Decision, facts: Facts) -> ASGIApp:
        """Held for a delay that grows with the score, then refused: 429 when a rate limit
        decided (it set `retry_after`), else 403; the operator's `responder` may shape it."""
        action = Action.THROTTLE if decision.retry_after is not None else Action.BLOCK
        refusal = await self.refusal(msgspec.structs.replace(decision, action=action), facts)
        assert self.tarpit is not None  # (installed with this handler)
        return self.tarpit.hold(refusal, decision.score)

    async def response_for(self, decision: Decision, facts: Facts) -> ASGIApp:
        handler = self.handlers.get(decision.action)
        if handler is not None and decision.status is None:
            if decision.action is Action.CHALLENGE and self.settings.responder is not None:
                # The operator's responder is asked first here too (docs/pages.md); if it
                # declines or fails, the challenge page is sent, never a page with no puzzle.
                try:
                    own = await self._operator_response(decision, facts)
                except Exception:
                    logger.exception("scrapeshield responder failed; sending the challenge")
                    own = None
                if own is not None:
                    return own
            custom = await handler(decision, facts)
            if custom is not None:
                return custom
        return await self.refusal(decision, facts)

    async def refusal(self, decision: Decision, facts: Facts) -> ASGIApp:
        """The operator's `responder`, else the default page for the decision."""
        result = await self._operator_response(decision, facts)
        if result is not None:
            return result
        return default_response(decision, facts, self.settings, self.pages)

    async def _operator_response(self, decision: Decision, facts: Facts) -> ASGIApp | None:
        responder = self.settings.responder
        if responder is None:
            return None
        result = responder(decision, facts)
        if asyncio.iscoroutine(result):
            result = await result
        return result  # type: ignore[no-any-return]
