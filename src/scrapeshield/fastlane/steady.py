"""The header-set table: the steady detectors' answers per header set and network.

A detector that declares `steady_signals` (`lease.protocol.Steady`) gives signals that follow
from the request's header lines and address alone. With the fast lane on, a kind of request's
plan asks its steady detectors once per distinct input (`steady_key`), and keeps each one's
answer (its signals and the notes it wrote in `ctx.notes`, which later detectors read) in one
bounded table (`fingerprint.memo.Memo`): a repeat costs the key and one lookup for all of them,
each detector's answer replayed where it stands in the detection order.

A detector whose answer also depends on a note an unsteady detector writes names those notes
(`steady_unless_notes`: the datacenter detector is silent for a verified crawler): with one of
them present it is asked as usual, and its answer is kept only when none is.
tests/fastlane/test_steady_key.py records what every steady detector reads and holds it to
`steady_key`; tests/fastlane/test_differential.py holds the whole to the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scrapeshield.detector import Found, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.memo import Memo
from scrapeshield.signals import Signal

Answer = tuple[Sequence[Signal], dict[str, Any]]
"""A steady detector's signals and the notes it wrote."""
Entry = list[Answer | None]
"""One input's answers, a place per steady detector of its plan (None: not asked yet)."""

ENTRY_NOTE = "fast_lane_steady"
"""`ctx.notes`: the request's entry in the table, looked up by its first steady detector."""
UNKEYED = ("cookie", "referer")
"""Fields whose value no steady detector reads (their names and places are keyed)."""


def steady_key(facts: Facts) -> tuple[Any, ...]:
    """Every input a steady detector reads: the kind of request, the address, the scheme's and
    HTTP version's context, the user agent, and the header lines (names in order, every value
    but the cookie's and the Referer's)."""
    headers = facts.headers
    names = tuple(headers)
    values = list(headers.values())
    for name in UNKEYED:
        if name in headers:
            values[names.index(name)] = ""
    return (
        facts.method,
        facts.route_group,
        facts.route,
        facts.client_ip,
        facts.http_version,
        facts.secure_context,
        facts.user_agent,
        facts.user_agent_truncated,
        names,
        tuple(values),
    )


def _chars(key: tuple[Any, ...]) -> int:
    """Characters of the client's strings a key holds (counted on a miss only)."""
    total = 0
    for part in key:
        if isinstance(part, str):
            total += len(part)
        elif isinstance(part, tuple):
            total += sum(len(p) for p in part if isinstance(p, str))
    return total


class SteadyTable:
    """The entries, bounded as `Memo` is (a flood of distinct inputs clears it)."""

    __slots__ = ("_entries",)

    def __init__(self, entries: int = 4096, chars: int = 4_000_000) -> None:
        self._entries: Memo[Entry] = Memo(entries, chars)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, facts: Facts, size: int) -> Entry:
        key = steady_key(facts)
        found = self._entries.get(key)
        if found is None:
            found = [None] * size
            self._entries.put(key, found, _chars(key))
        return found

    def runs(
        self, detector: object, run: Callable[[Facts, RequestContext], Found], slot: int, size: int
    ) -> SteadyRun:
        return SteadyRun(self, run, slot, size, getattr(detector, "steady_unless_notes", ()))


class SteadyRun:
    """A steady detector's place in a plan: its answer from the request's entry, or asked."""

    __slots__ = ("_run", "_size", "_slot", "_table", "_unless")

    def __init__(
        self,
        table: SteadyTable,
        run: Callable[[Facts, RequestContext], Found],
        slot: int,
        size: int,
        unless: Sequence[str],
    ) -> None:
        self._table, self._run, self._slot, self._size = table, run, slot, size
        self._unless = tuple(unless)

    def __call__(self, facts: Facts, ctx: RequestContext) -> Found:
        notes = ctx.notes
        entry: Entry | None = notes.get(ENTRY_NOTE)
        if entry is None:
            entry = notes[ENTRY_NOTE] = self._table.entry(facts, self._size)
        if self._unless and any(name in notes for name in self._unless):
            return self._run(facts, ctx)  # asked as usual, nothing kept
        answer = entry[self._slot]
        if answer is not None:
            signals, written = answer
            if written:
                notes.update(written)
            return signals
        before = dict(notes)
        found = self._run(facts, ctx)
        if type(found) is tuple or type(found) is list:
            written = {k: v for k, v in notes.items() if k not in before or before[k] is not v}
            entry[self._slot] = (tuple(found), written)
        return found
