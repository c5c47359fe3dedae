"""A JSON-lines block-log file as an event source, read one line at a time (a line longer than
`MAX_LINE` is skipped), followed as it grows, across truncation and rotation."""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from scrapeshield.blocklog import STATE_EVENT
from scrapeshield.errors import SourceError
from scrapeshield.operators.filters import EventFilter
from scrapeshield.operators.stream import PAGE

MAX_LINE = 1 << 20  # a JSON-lines record is a few KB; longer lines are not ours
_MAX_FILE_STATES = 1024


def parse_line(line: str) -> dict[str, Any] | None:
    """A block-log record from one log line: the JSON object itself, or after a prefix a text
    formatter added (`2026-... WARNING {...}`); None for any other line."""
    start = line.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(line[start:])
    except ValueError:
        return None
    if not isinstance(data, dict) or not ("client_key" in data or data.get("event") == STATE_EVENT):
        return None
    return data


class FileSource:
    """A JSON-lines log file of block-log records (other lines are skipped)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"no such log file: {self.path}")
        self.description = f"the log file {self.path}"
        self._states: dict[str, dict[str, Any]] = {}

    def _lines(self, handle: Any) -> Iterator[bytes]:
        while True:
            line = handle.readline(MAX_LINE)
            if not line:
                return
            if not line.endswith(b"\n") and len(line) >= MAX_LINE:
                while (rest := handle.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass  # a line past the bound: skipped whole
                continue
            yield line

    def _open(self) -> Any:
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror}") from None

    def _record(self, raw: bytes) -> dict[str, Any] | None:
        data = parse_line(raw.decode("utf-8", "replace"))
        if data is not None and data.get("event") == STATE_EVENT:
            sid, state = data.get("directives"), data.get("state")
            fits = len(self._states) < _MAX_FILE_STATES
            if isinstance(sid, str) and isinstance(state, dict) and fits:
                self._states[sid] = state
            return None
        return data

    async def cursor(self) -> str:
        return str(self.path.stat().st_size)

    def any_order(self, flt: EventFilter) -> AsyncIterator[dict[str, Any]]:
        return self.oldest_first(flt)

    async def oldest_first(
        self, flt: EventFilter, end: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Records in file order (up to byte `end`, when given)."""
        with self._open() as handle:
            for count, line in enumerate(self._lines(handle)):
                if end is not None and handle.tell() > end:
                    return
                data = self._record(line)
                if data is not None and flt.matches(data):
                    yield data
                if count % 2000 == 1999:
                    await asyncio.sleep(0)  # a long file: let a dashboard's loop breathe

    async def newest_first(
        self, flt: EventFilter, upto: str | None = None, keep: int = PAGE * 20
    ) -> AsyncIterator[dict[str, Any]]:
        """A file is read forwards; this holds the newest `keep` matches and yields no more
        (use `any_order` or `oldest_first` for every match)."""
        kept: deque[dict[str, Any]] = deque(maxlen=keep)
        async for data in self.oldest_first(flt, None if upto is None else int(upto)):
            kept.append(data)
        while kept:
            yield kept.pop()

    async def follow(
        self, flt: EventFilter, interval: float = 1.0, after: str | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Lines appended after the `after` cursor (default: now); starts over when the file
        is truncated or replaced."""
        stat = self.path.stat()
        position = int(after) if after is not None else stat.st_size
        inode = stat.st_ino
        while True:
            await asyncio.sleep(interval)
            try:
                stat = self.path.stat()
            except OSError:
                continue  # rotated away: wait for the new file
            if stat.st_ino != inode or stat.st_size < position:
                inode, position = stat.st_ino, 0
            if stat.st_size == position:
                continue
            with self._open() as handle:
                handle.seek(position)
                for line in self._lines(handle):
                    if not line.endswith(b"\n"):
                        break  # half-written: read it whole next time
                    position = handle.tell()
                    data = self._record(line)
                    if data is not None and flt.matches(data):
                        yield data

    async def states(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The `directives` records seen so far in the file (read it first)."""
        return {i: self._states[i] for i in ids if i in self._states}
