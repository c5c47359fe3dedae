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
    """Many globs compiled once. The common shapes (`/exact`, `/prefix/*`, `*.suffix`) are set
    and `str.startswith`/`endswith` tests, whose cost does not grow with the value's length
    (a `.*` regex walks a 64 KiB path once per pattern); the rest share one regex."""

    __slots__ = ("_exact", "_prefixes", "_regex", "_suffixes", "patterns")

    def __init__(self, patterns: Iterable[str], *, ignore_case: bool = False) -> None:
        self.patterns = tuple(patterns)
        exact: set[str] = set()
        prefixes: list[str] = []
        suffixes: list[str] = []
        rest: list[str] = []
        for pattern in self.patterns:
            stars = pattern.count("*")
            if ignore_case or "?" in pattern or stars > 1:
                rest.append(pattern)
            elif stars == 0:
                exact.add(pattern)
            elif pattern.endswith("*"):
                prefixes.append(pattern[:-1])
            elif pattern.startswith("*"):
                suffixes.append(pattern[1:])
            else:
                rest.append(pattern)
        self._exact = frozenset(exact)
        self._prefixes = tuple(prefixes)
        self._suffixes = tuple(suffixes)
        flags = re.IGNORECASE if ignore_case else 0
        if rest:
            body = "|".join(f"(?:{glob_to_regex(p)})" for p in rest)
            self._regex: re.Pattern[str] | None = re.compile(f"(?:{body})\\Z", flags | re.DOTALL)
        else:
            self._regex = None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, value: str) -> bool:
        return (
            value in self._exact
            or value.startswith(self._prefixes)
            or value.endswith(self._suffixes)
            or (self._regex is not None and self._regex.match(value) is not None)
        )
