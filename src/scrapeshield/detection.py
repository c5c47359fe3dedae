"""Running the detectors: one loop, for every store.

Each detector is asked once, in order (`detect_now` when it offers one, else `detect`), and
answers with its signals, or with something to wait for:
- a `Soon` (store/soon.py): its store command is queued (Redis), with the plain function that
  turns the reply into its signals. When every waiting detector answered so, the loop hands back
  a `Pending`: the request waits once for the tick's batch, which carries every reply (and the
  ban read), then each detector's function runs in turn: no coroutine per detector.
- `Sent`: its store commands are queued already (Redis), read by a coroutine of its own. It is
  awaited after the loop, with every other detector's and the ban read, so the whole request
  still costs one round trip.
- a store-using detector with only `detect`: started as a task before anything is queued, so its
  commands join the same round trip, and awaited with the queued ones.
- anything else (a reverse-DNS check, a key fetch): awaited before the next detector runs,
  since later detectors may read what it noted (the rate limiter reads `verified`'s result).
When nothing has to wait (the MemoryStore, detectors that answer at once) the loop runs without a
coroutine. A detector that raises is handed to `failed` (logged, or the request fails closed).

Which detectors a request meets is decided once per kind of request, not per request (`Plans`):
a detector that offers `runs_on(method, route_group, route)` and answers False for a kind (it
has nothing to do there, e.g. a counter of page views for a POST to the API) is left out of that
kind's loop altogether.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from typing import Any, NamedTuple

from scrapeshield.detector import Detector, Found, RequestContext, Sent, settled, signalled
from scrapeshield.facts import Facts
from scrapeshield.route_index import RouteMark
from scrapeshield.signals import Signal
from scrapeshield.store.soon import Soon

Failed = Callable[[Detector, Facts, RequestContext, Exception], None]
Run = tuple[Detector, Callable[[Facts, RequestContext], Found]]
Queued = list[tuple[int, Detector, Awaitable[Any]]]
Started = dict[int, "asyncio.Task[Sequence[Signal]]"]
"""Detectors whose commands are queued, with where their signals go in the request's list."""


class Runs(NamedTuple):
    """The detectors with their runners, and which of them start first (see `detect`)."""

    entries: list[Run]
    early: frozenset[int]


_DRAINING: set[asyncio.Task[None]] = set()
_MAX_PLANS = 1024  # kinds of request: methods come from clients, so the plans stay bounded
Kind = tuple[str, str, RouteMark | None]
"""A kind of request: its method, its route group and its marked route (`Facts`)."""

logger = logging.getLogger("scrapeshield")


class Plans:
    """The detectors each kind of request meets, decided once per kind (method, route group,
    marked route) from the detectors' `runs_on`, then one dict lookup per request.

    A detector without `runs_on` meets every request; one whose `runs_on` raises too (logged
    once per kind). Built for one list of detectors: `for_list` says whether it still is.
    """

    __slots__ = ("_all", "_by_kind", "_detectors", "_narrowed")

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self._detectors = list(detectors)
        self._all = runs_for(self._detectors)
        self._by_kind: dict[Kind, Runs] = {}
        # Only detectors that can decline a kind make plans differ: without any, one for all.
        self._narrowed = any(callable(getattr(d, "runs_on", None)) for d in self._detectors)

    def for_list(self, detectors: Sequence[Detector]) -> bool:
        """Whether these plans are for this list (a C-level, identity-first compare)."""
        return self._detectors == detectors

    @property
    def every(self) -> Runs:
        """Every detector (for a request of no particular kind)."""
        return self._all

    def for_request(self, facts: Facts) -> Runs:
        if not self._narrowed:
            return self._all
        kind = (facts.method, facts.route_group, facts.route)
        runs = self._by_kind.get(kind)
        return runs if runs is not None else self._plan(kind)

    def _plan(self, kind: Kind) -> Runs:
        chosen = [d for d in self._detectors if _runs_on(d, kind)]
        runs = self._all if len(chosen) == len(self._detectors) else runs_for(chosen)
        if len(self._by_kind) >= _MAX_PLANS:
            self._by_kind.clear()
        self._by_kind[kind] = runs
        return runs

    def names_for(self, method: str, route_group: str, route: RouteMark | None = None) -> list[str]:
        """The names of the detectors a kind of request meets, in order (`explain`, tests)."""
        runs = self._all if not self._narrowed else self._plan((method, route_group, route))
        return [detector.name for detector, _ in runs.entries]


def _runs_on(detector: Detector, kind: Kind) -> bool:
    runs_on = getattr(detector, "runs_on", None)
    if runs_on is None:
        return True
    try:
        return bool(runs_on(*kind))
    except Exception:
        logger.exception("detector %s could not say whether it runs on %s", detector.name, kind)
        return True


def runs_for(detectors: Sequence[Detector]) -> Runs:
    """Each detector with its bound `detect_now` (else `detect`), bound once, not per request."""
    entries: list[Run] = [(d, getattr(d, "detect_now", None) or d.detect) for d in detectors]
    early = frozenset(
        i for i, d in enumerate(detectors) if d.uses_store and not hasattr(d, "detect_now")
    )
    return Runs(entries, early)


def detect(
    runs: Runs,
    facts: Facts,
    ctx: RequestContext,
    failed: Failed,
    started: Started | None = None,
    start: int = 0,
    signals: list[Signal] | None = None,
    queued: Queued | None = None,
) -> list[Signal] | Awaitable[list[Signal]]:
    """Every detector from `start` on: the signals in detector order, or an awaitable of them
    (a `Pending` when every detector that waits answered with a `Soon`).
    `started`: what `start_early` started (before anything else was queued)."""
    if signals is None:
        signals = []
    entries = runs.entries[start:] if start else runs.entries
    for index, (detector, run) in enumerate(entries, start):
        try:
            found = started[index] if started and index in started else run(facts, ctx)
        except Exception as exc:
            failed(detector, facts, ctx, exc)
            continue
        if type(found) is tuple or type(found) is list:  # `settled` inline: 3.9k a request
            if found:  # most detectors, most requests: nothing to say
                signals.extend(found)
                signalled(detector, ctx, found)
        elif isinstance(found, Soon | Sent | asyncio.Task):
            if queued is None:
                queued = []
            queued.append((len(signals), detector, found))
        else:
            waiting: Awaitable[Sequence[Signal]] = found  # type: ignore[assignment]
            return _resume(waiting, runs, index, facts, ctx, failed, started, signals, queued)
    if queued:
        if all(isinstance(sent, Soon) for _, _, sent in queued):
            return Pending(queued, facts, ctx, failed, signals)  # type: ignore[arg-type]
        return _collect(queued, facts, ctx, failed, signals)
    return signals


class Pending:
    """The detectors whose replies come with the tick's batch (`Soon`s): the request waits for
    that batch once, then each reply becomes its detector's signals, in detector order (a
    detector's error stays its own: `failed`)."""

    __slots__ = ("ctx", "facts", "failed", "queued", "signals")

    def __init__(
        self,
        queued: list[tuple[int, Detector, Soon[Found]]],
        facts: Facts,
        ctx: RequestContext,
        failed: Failed,
        signals: list[Signal],
    ) -> None:
        self.queued, self.facts, self.ctx = queued, facts, ctx
        self.failed, self.signals = failed, signals

    def __await__(self) -> Generator[Any, None, list[Signal]]:
        for _, _, soon in self.queued:
            if not soon.settled:  # (the first waits for the batch; the rest came with it)
                yield from soon.ready()
        found = self._finish()
        if isinstance(found, list):
            return found
        return (yield from found.__await__())

    def _finish(self) -> list[Signal] | Awaitable[list[Signal]]:
        """Each detector's signals from its reply; awaitable only when one must still write
        (an escalation's ban)."""
        results: list[Found] = []
        later = False
        for _, detector, soon in self.queued:
            try:
                found = soon.result()
            except Exception as exc:
                self.failed(detector, self.facts, self.ctx, exc)
                found = ()
            later = later or not settled(found)
            results.append(found)
        if later:
            return self._awaited(results)
        return _inserted(self.signals, self.queued, results, self.ctx)  # type: ignore[arg-type]

    async def _awaited(self, results: list[Found]) -> list[Signal]:
        done: list[Sequence[Signal]] = []
        for (_, detector, _), found in zip(self.queued, results, strict=True):
            if settled(found):
                done.append(found)
                continue
            try:
                done.append(await found)  # type: ignore[misc]
            except Exception as exc:
                self.failed(detector, self.facts, self.ctx, exc)
                done.append(())
        return _inserted(self.signals, self.queued, done, self.ctx)


def _inserted(
    signals: list[Signal],
    queued: Sequence[tuple[int, Any, Any]],
    found: list[Sequence[Signal]],
    ctx: RequestContext,
) -> list[Signal]:
    """Each queued detector's signals put back where it stands in the order."""
    for (position, detector, _), more in zip(reversed(queued), reversed(found), strict=True):
        if more:
            signals[position:position] = more
            signalled(detector, ctx, more)
    return signals


def start_early(runs: Runs, facts: Facts, ctx: RequestContext, failed: Failed) -> Started:
    """Tasks for the store detectors that only offer `detect`, created before any command is
    queued: their first steps then run before the pipeline leaves, and join it."""
    loop = asyncio.get_running_loop()
    return {
        i: loop.create_task(_guarded(runs.entries[i][0], facts, ctx, failed)) for i in runs.early
    }


async def _guarded(
    detector: Detector, facts: Facts, ctx: RequestContext, failed: Failed
) -> Sequence[Signal]:
    try:
        return await detector.detect(facts, ctx)
    except Exception as exc:
        failed(detector, facts, ctx, exc)
    return ()


async def _resume(
    waiting: Awaitable[Sequence[Signal]],
    runs: Runs,
    index: int,
    facts: Facts,
    ctx: RequestContext,
    failed: Failed,
    started: Started | None,
    signals: list[Signal],
    queued: Queued | None,
) -> list[Signal]:
    """Await the detector at `index`, then go on with the loop from the next one."""
    try:
        if more := await waiting:
            signals.extend(more)
            signalled(runs.entries[index][0], ctx, more)
    except Exception as exc:
        failed(runs.entries[index][0], facts, ctx, exc)
    except BaseException:  # cancelled: read what the others queued, so no reply is left unread
        drain(sent for _, _, sent in queued or ())
        raise
    rest = detect(runs, facts, ctx, failed, started, index + 1, signals, queued)
    return rest if isinstance(rest, list) else await rest


async def _collect(
    queued: Queued, facts: Facts, ctx: RequestContext, failed: Failed, signals: list[Signal]
) -> list[Signal]:
    """The queued detectors' signals, each put back where its detector stands in the order."""
    found: list[Sequence[Signal]] = []
    for done, (_, detector, sent) in enumerate(queued):
        try:
            got = await sent
            if isinstance(sent, Soon) and not settled(got):  # (a detector's function may write)
                got = await got
            found.append(got)
        except Exception as exc:
            failed(detector, facts, ctx, exc)
            found.append(())
        except BaseException:
            drain(sent for _, _, sent in queued[done + 1 :])
            raise
    return _inserted(signals, queued, found, ctx)


def drain(queued: Iterable[Awaitable[object]]) -> None:
    """Await what a cancelled request queued, in tasks of their own (a reply comes within the
    store's timeout), so that no reply, error or coroutine is left unread."""
    for sent in queued:
        task = asyncio.get_running_loop().create_task(_drain(sent))
        _DRAINING.add(task)  # held until done: a task nobody holds may be collected
        task.add_done_callback(_DRAINING.discard)


async def _drain(waiting: Awaitable[object]) -> None:
    with contextlib.suppress(BaseException):
        found = await waiting
        if inspect.isawaitable(found):  # a `Soon`'s function that still writes
            await found
