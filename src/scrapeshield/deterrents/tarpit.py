"""The tarpit: hold a caught client's request for a while, then refuse it.

A scraper that waits is a scraper that fetches less, and a slow answer costs it a connection and
time without telling it much. The delay grows with the score and is bounded; at most
`max_concurrent` requests are held at once per Tarpit (one per middleware, i.e. per worker
process): past that, the refusal is sent at once, so a flood cannot hold the server's
connections or memory. A held request ends early when its client goes away.
"""

from __future__ import annotations

import asyncio
import math

from starlette.types import ASGIApp, Receive, Scope, Send

from scrapeshield.deterrents.settings import TarpitSettings


class Tarpit:
    def __init__(self, settings: TarpitSettings, *, threshold: float) -> None:
        self.config = settings
        self.threshold = threshold
        self.held = 0
        self.peak = 0

    def delay_for(self, score: float) -> float:
        c = self.config
        above = score - self.threshold
        if math.isnan(above) or above < 0:
            above = 0.0
        return min(c.max_delay, c.base_delay + c.delay_per_point * above)

    def full(self) -> bool:
        return self.held >= self.config.max_concurrent

    def hold(self, refusal: ASGIApp, score: float) -> ASGIApp:
        """An ASGI app that waits `delay_for(score)` (if a place is free), then sends `refusal`."""
        return _Held(self, self.delay_for(score), refusal)


class _Held:
    __slots__ = ("delay", "refusal", "tarpit")

    def __init__(self, tarpit: Tarpit, delay: float, refusal: ASGIApp) -> None:
        self.tarpit = tarpit
        self.delay = delay
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tarpit = self.tarpit
        if self.delay > 0 and not tarpit.full():  # no await between the test and the count
            tarpit.held += 1
            tarpit.peak = max(tarpit.peak, tarpit.held)
            try:
                if await _client_left(receive, self.delay):
                    return  # nobody to answer
            finally:
                tarpit.held -= 1
        await self.refusal(scope, receive, send)


async def _client_left(receive: Receive, seconds: float) -> bool:
    """Wait `seconds`, or less if the client disconnects (then True). The request body, if any,
    is read and dropped meanwhile."""

    async def until_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(until_gone(), seconds)
    except TimeoutError:
        return False
    return True
