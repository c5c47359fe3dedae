"""benchmarks/decision_digest.py: one digest for two trees that decide alike, another as soon as
one answer or one stored value differs."""

from __future__ import annotations

import pytest
from benchmarks import decision_digest


async def test_the_digest_is_repeatable_and_moves_with_one_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, again = await decision_digest.digests(), await decision_digest.digests()
    assert first == again
    assert first[-1][1] > 600  # every stage's requests, counted
    # one header value the shield adds, changed: every stage whose answers carry it moves
    monkeypatch.setattr("scrapeshield.directives.headers.content_usage", lambda prefs: "x")
    changed = await decision_digest.digests()
    assert changed[-1][2] != first[-1][2]
    assert [n for n, _, d in changed] == [n for n, _, d in first]


def test_canonical_orders_sets_and_mappings() -> None:
    assert decision_digest.canonical({"b": {2, 1}, "a": (1,)}) == [("a", [1]), ("b", [1, 2])]
