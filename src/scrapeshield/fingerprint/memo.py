"""Answers kept per exact input, for inputs a client chooses (a user agent, a header set).

A browser sends the same fields on every request of a kind, so a detector that reads only those
fields can answer a repeat with one lookup. The key holds the inputs themselves, compared by
equality, so no client can make an answer apply to another input. Clients also choose how many
distinct inputs and how long: the memo holds at most `entries` answers and `chars` characters
of keys, and is cleared when either is reached, so a flood costs recomputation, never memory.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

_V = TypeVar("_V")


class Memo(Generic[_V]):
    def __init__(self, entries: int = 4096, chars: int = 4_000_000) -> None:
        self.entries = entries
        self.chars = chars
        self._answers: dict[Hashable, _V] = {}
        self._held = 0

    def __len__(self) -> int:
        return len(self._answers)

    @property
    def held(self) -> int:
        """Characters of keys held now (as the callers counted them)."""
        return self._held

    def get(self, key: Hashable) -> _V | None:
        return self._answers.get(key)

    def put(self, key: Hashable, answer: _V, chars: int) -> None:
        """Keep `answer` for `key`, whose strings are `chars` characters long in all."""
        if chars > self.chars:
            return  # larger than the whole memo: recomputed each time, never held
        if len(self._answers) >= self.entries or self._held + chars > self.chars:
            self._answers.clear()
            self._held = 0
        self._answers[key] = answer
        self._held += chars
