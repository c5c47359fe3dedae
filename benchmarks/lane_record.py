"""The lane probe with its hits counted on a compact client record (issue 19's step c, a probe).

Benchmark code only, neither exact nor safe (docs/log/architecture.md, "The hit path on a compact
record"). `RecordProbe` is `lane_probe.LaneProbe` with two changes:

- **the key**: (the peer's address, the raw header lines but the Referer as one tuple, the
  method, the path's first segment). The cookie and X-Forwarded-For are among the lines, so
  nothing is parsed on a hit (the address behind a proxy is read only at a miss, by the
  detectors);
- **the counts**: a hit counts on records the probe keeps itself, one per subject (a client:
  its rate limit windows, behaviour's counters and rings; a network: its windows), each plain
  integers in arrays, which the table entry references (`_Entry.slots`, `_Entry.record`): the
  one dict lookup of the entry finds them. The arithmetic is the detectors' own: per limit
  `NativeMemoryLimiter._admit_sliding`'s (the window index, the current and the previous
  count), behaviour's `record.count` (two windows of counters by the index's parity) and its
  ring push (`record.pushed`).

A full evaluation's counts are the detectors': before one, every record a hit changed since the
last is written back to the detectors' entries (the limiter's windows, behaviour's `Tally`, so
the evaluation sees every hit, as with the probe counting on them), and after it the records of
the subjects it counted are read again from them. Inexact where the probe is, and also: a hit
does not refresh the expiry of behaviour's store record nor move the limiter's keys in their
LRU order; a limit other than a sliding window is not counted on a hit; `extras` (ban, identity,
fields) are not offered.
"""

from __future__ import annotations

import time
from array import array
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from benchmarks.lane_probe import LaneProbe, _Entry, _Key
from scrapeshield.behaviour.record import NEW_TALLY, RING_AT, RING_NAMES, new_tally
from scrapeshield.behaviour.works import item_id
from scrapeshield.store.keys import subject_key

_Subject = tuple[str, str]  # (kind, name): ("client", "203.0.113.9"), ("network", "…/24")


class _Record:
    """One subject's counts, in arrays of integers (which the garbage collector does not walk):
    the rate limiter's windows of its keys (`keys[i]`'s window at `windows[3 * i:]`: index,
    current, previous), for a client also behaviour's counters (a `Tally`'s twelve) and rings
    (`rings[2 * r]`, `rings[2 * r + 1]`: ring r's ids and whole seconds; empty: None in the
    `Tally`). Lists in their place (~10 objects the collector tracks a client, against 2) made
    hits ~0.7 µs cheaper and every collection dearer: at 2,000 people (`bench_pace --lane
    --pages 2 --pace 0`) a page's full evaluation cost 262 against the probe's 212 µs (233
    against 229 with the collector off); the windows in a list of tuples (4 tracked) still
    averaged 141, 133 µs a request against the probe's 134, 127 (arrays: 115, 116 against
    127, 128). Rings as a `Tally`'s tuples rebuilt at each push: a hit's counting 0.7 µs
    dearer hot (docs/log/architecture.md, "The hit path on a compact record")."""

    __slots__ = ("counts", "dirty", "keys", "rings", "tally_key", "windows")

    def __init__(self) -> None:
        self.keys: tuple[str, ...] = ()
        self.windows = array("q")
        self.counts: array[int] | None = None  # behaviour's, once a full evaluation read them
        self.rings: list[array[int]] = []
        self.tally_key = ""
        self.dirty = False  # changed by a hit since the detectors' entries were written


class RecordProbe(LaneProbe):
    def __init__(self, app: ASGIApp, **options: Any) -> None:
        if options.get("extras"):
            raise ValueError("lane probe with a record: no `extras`")
        super().__init__(app, **options)
        self.records: dict[_Subject, _Record] = {}
        self.dirty: list[_Record] = []  # records a hit changed since the last full evaluation
        self._slot_of: dict[str, tuple[_Record, int]] = {}  # a limiter key's record and place

    def key(self, scope: Scope) -> _Key:
        return record_key(scope)

    def _count(self, entry: _Entry, path: str) -> list[tuple[bytes, bytes]]:
        """The hit's counts, on its subjects' records; the headers to add (as stored)."""
        now = time.time()
        dirty = self.dirty
        slots = entry.slots
        if slots and "ratelimit" in self.counting:
            taken: list[tuple[array[int], int, tuple[int, int, int]]] = []
            for record, at, window, quota in slots:
                windows = record.windows
                index = int(now / window)
                last, cur, prev = old = windows[at], windows[at + 1], windows[at + 2]
                if index <= last:  # (as `_admit_sliding`)
                    index = last
                elif index - last == 1:
                    cur, prev = 0, cur
                else:
                    cur = prev = 0
                counted = int(prev * (1 - (now % window) / window) + cur) if prev else cur
                if counted + 1 > quota:  # no room: the next request runs the full evaluation
                    entry.budget = 0
                    for windows, at, old in taken:
                        windows[at], windows[at + 1], windows[at + 2] = old
                    break
                windows[at], windows[at + 1], windows[at + 2] = index, cur + 1, prev
                taken.append((windows, at, old))
                if not record.dirty:
                    record.dirty = True
                    dirty.append(record)
        record = entry.record
        if record is not None and "behaviour" in self.counting:
            r = entry.bh
            counts = record.counts
            bucket = int(now // self._window)
            at = 6 * (bucket % 2)
            if counts[at + 5] != bucket:  # (as `record.count`)
                counts[at : at + 6] = array("q", (0, 0, 0, 0, 0, bucket))
            for b in r.bumps:
                counts[at + b] += 1
            place = entry.place
            if place is not None and (ident := item_id(path)) is not None:
                ids, times = record.rings[place], record.rings[place + 1]
                ids.append(ident)
                times.append(int(now))
                if len(ids) > self._ring_size:  # (as `record.pushed`: the oldest dropped)
                    del ids[0], times[0]
            if not record.dirty:
                record.dirty = True
                dirty.append(record)
        return entry.headers

    async def _full(self, key: _Key, scope: Scope, receive: Receive, send: Send) -> None:
        """The hits' counts written to the detectors' entries, the full evaluation, and the
        records of what it counted read again; its entry (if kept) given its records."""
        self._write_back()
        await super()._full(key, scope, receive, send)
        slots, client, place = self._read()
        entry = self.table.get(key)
        if entry is not None and entry.budget > 0:
            entry.slots, entry.record, entry.place = slots, client, place

    def _read(self) -> tuple[tuple[Any, ...], _Record | None, int | None]:
        """The records of the subjects the full evaluation just counted, read again from the
        detectors' entries: its limits' slots (record, place, window, quota; none when one is
        not a sliding window), the client's record (behaviour's), the ring a hit pushes to."""
        caught = self._caught
        slots: list[tuple[_Record, int, float, int]] = []
        if (hit := caught.get("rl")) is not None:
            rules, keys, _, _ = hit
            data = self._limiter._data
            for limit, name in zip(rules.limits, keys[0], strict=True):
                window = data.get(name)
                if limit.strategy != "sliding-window-counter" or window is None:
                    slots = []  # (not counted on a hit: see the docstring)
                    break
                slot = self._slot_of.get(name)
                if slot is None:  # a new key: its subject's record, and its place there
                    record = self._record(_subject(name))
                    slot = self._slot_of[name] = record, len(record.windows)
                    record.keys = (*record.keys, name)
                    record.windows.extend(window)
                record, at = slot
                record.windows[at], record.windows[at + 1], record.windows[at + 2] = window
                slots.append((record, at, float(limit.window), int(limit.quota)))
        client = place = None
        if (r := caught.get("bh")) is not None:
            client = self._record(("client", r.client))
            client.tally_key = subject_key("bh:", r.client)
            tally = self.store.record(client.tally_key, self._ttl, new_tally) or NEW_TALLY
            client.counts = array("q", tally[0])
            client.rings = [array("q", part) for ring in tally[1:] for part in ring or ((), ())]
            if r.ident is not None:
                place = 2 * (RING_AT[RING_NAMES[r.kind]] - 1)
        return tuple(slots), client, place

    def _record(self, subject: _Subject) -> _Record:
        record = self.records.get(subject)
        if record is None:
            if len(self.records) >= 100_000:  # (entries hold records: both start again)
                self._write_back()
                self.records.clear()
                self._slot_of.clear()
                self.table.clear()
            record = self.records[subject] = _Record()
        return record

    def _write_back(self) -> None:
        """Every record a hit changed, into the detectors' entries (the limiter's windows,
        behaviour's `Tally` where the store still holds one)."""
        data = self._limiter._data if self._limiter is not None else {}
        for record in self.dirty:
            record.dirty = False
            windows = record.windows
            for i, name in enumerate(record.keys):
                data[name] = windows[3 * i], windows[3 * i + 1], windows[3 * i + 2]
            if record.counts is not None:
                rings = record.rings
                tally = tuple(
                    (tuple(rings[at]), tuple(rings[at + 1])) if rings[at] else None
                    for at in range(0, len(rings), 2)
                )
                self.store.replace_record(record.tally_key, (tuple(record.counts), *tally))
        self.dirty.clear()


def record_key(scope: Scope) -> _Key:
    """(peer address, header lines but the Referer, method, route kind)."""
    lines = tuple([line for line in scope["headers"] if line[0] != b"referer"])  # (a list:
    # ~0.2 µs less than a generator)
    client = scope.get("client")
    path: str = scope["path"]
    return client[0] if client else "", lines, scope["method"], path[: path.find("/", 1)]


def _subject(name: str) -> _Subject:
    """A limiter key's subject: 'rl:client:default:{203.0.113.9}:…' → ("client", "203.0.113.9")."""
    return name.split(":", 2)[1], name[name.index("{") + 1 : name.index("}")]
