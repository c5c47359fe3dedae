"""A store reply still to come with the tick's batch, and the plain function that turns it into
what its caller wants (a detector's signals, the ban).

On Redis a request's detectors queue their commands in one tick and every reply comes back with
that tick's one batch. A coroutine per detector to await its reply and convert it (and a chain of
awaits to collect them) cost the request more than the conversion itself. So a caller hands the
store, when it queues, a plain function (`then`); the store settles the `Soon` with the raw reply
(or the batch's error); the request awaits the tick's batch once (`tick`, one future for every
command of the tick), then reads each `result()`: `then(reply)`, or the error raised. The store
treats a `Soon` as it treats a caller's future (`done`, `set_result`, `set_exception`).

`then` runs in the request's own task, when it reads the result: a detector's errors stay its
own, and nothing runs for a request that was cancelled unless its replies are drained
(`detection.drain`, which reads them as the request would have).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Iterable
from typing import Any, Generic, Protocol, TypeVar

from scrapeshield.errors import StoreUnavailable

T = TypeVar("T")


class Receiver(Protocol):
    """What takes a command's reply: a caller's future, a `Soon`, or a script call's `_Call`."""

    def done(self) -> bool: ...
    def set_result(self, result: Any, /) -> None: ...
    def set_exception(self, exception: BaseException, /) -> None: ...


def fail_all(receivers: Iterable[Receiver], error: BaseException) -> None:
    """Fail every reply still awaited: nobody is left waiting on a call or batch that failed."""
    for receiver in receivers:
        if not receiver.done():
            receiver.set_exception(error)


class Soon(Generic[T]):
    """One queued command's reply, settled with its tick's batch; awaitable too."""

    __slots__ = ("also", "error", "reply", "settled", "then", "tick")

    def __init__(self, then: Callable[[Any], T], tick: asyncio.Future[None]) -> None:
        self.then = then
        self.tick = tick
        """Done once the batch carrying this command has settled every reply in it."""
        self.settled = False
        self.reply: Any = None
        self.error: BaseException | None = None
        self.also: Soon[Any] | None = None

    def derived(self, then: Callable[[Any], Any]) -> Soon[Any]:
        """A second reading of the same reply (the ban phase takes the ban the rate limiter's
        script read): settled with this one."""
        self.also = Soon(then, self.tick)
        return self.also

    # -- the store's side: as a caller's future ----------------------------------------------

    def done(self) -> bool:
        return self.settled

    def set_result(self, reply: Any, /) -> None:
        self.reply, self.settled = reply, True
        if self.also is not None:
            self.also.set_result(reply)

    def set_exception(self, error: BaseException, /) -> None:
        self.error, self.settled = error, True
        if self.also is not None:
            self.also.set_exception(error)

    def moved(self, tick: asyncio.Future[None]) -> None:
        """Its command was queued again, in a later batch (a script the server had lost)."""
        self.tick = tick
        if self.also is not None:
            self.also.moved(tick)

    # -- the caller's side ---------------------------------------------------------------------

    def result(self) -> T:
        """`then(reply)`, once settled; the batch's error (or the command's) raised."""
        if self.error is not None:
            raise self.error
        return self.then(self.reply)

    def ready(self) -> Generator[Any, None, None]:
        """Wait (`yield from`) until settled: for the tick's batch, or the next one's."""
        while not self.settled:
            tick = self.tick
            yield from tick.__await__()
            if not self.settled and self.tick is tick:  # (never: a batch settles all it holds)
                self.set_exception(StoreUnavailable("store: a batch ended without this reply"))

    def __await__(self) -> Generator[Any, None, T]:
        yield from self.ready()
        return self.result()
