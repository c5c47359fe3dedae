"""Path and value patterns compiled once: operator-facing globs, never regexes per request."""

from __future__ import annotations

import re
from collections.abc import Iterable


def glob_to_regex(pattern: str) -> str:
    """Translate a glob (`*` any run of characters, `?` one character) to an anchored regex body.

    Unlike `fnmatch`, `*` also crosses `/` so `/images/*` covers nested paths, and nothing else
    is special, so operators can write paths with dots and brackets literally.
    """
    out: list[str] = []
    for char in pattern:
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)


class GlobSet:
    """Many globs compiled into one regex: one `match` call whatever the number of patterns."""

    __slots__ = ("_regex", "patterns")

    def __init__(self, patterns: Iterable[str], *, ignore_case: bool = False) -> None:
        self.patterns = tuple(patterns)
        flags = re.IGNORECASE if ignore_case else 0
        if self.patterns:
            body = "|".join(f"(?:{glob_to_regex(p)})" for p in self.patterns)
            self._regex: re.Pattern[str] | None = re.compile(f"(?:{body})\\Z", flags | re.DOTALL)
        else:
            self._regex = None

    def __bool__(self) -> bool:
        return self._regex is not None

    def matches(self, value: str) -> bool:
        return self._regex is not None and self._regex.match(value) is not None
