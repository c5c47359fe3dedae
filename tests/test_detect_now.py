"""`detect_now`: on the MemoryStore the shield runs detectors in turn and awaits only what a
detector hands back unfinished; `Immediate.detect` gives the same answer to other callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from scrapeshield import Settings, Shield
from scrapeshield.detector import Found, Immediate, RequestContext, settled
from scrapeshield.facts import Facts
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Signal
from scrapeshield.store import MemoryStore

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


class Later(Immediate):
    """Answers at once for one path; for any other, hands back a coroutine that waits."""

    name = "later"
    uses_store = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        self.calls.append(facts.path)
        if facts.path == "/now":
            return (Signal("test/now", 1.0),)
        return self._wait(facts.path)

    async def _wait(self, path: str) -> Sequence[Signal]:
        await asyncio.sleep(0)
        return [Signal(f"test/later{path}", 1.0)]


class Failing(Immediate):
    name = "failing"
    uses_store = False

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        raise RuntimeError("broken detector")


def shield_with(*detectors: object) -> Shield:
    shield = Shield(Settings(fingerprint={"enabled": False}), store=MemoryStore())
    shield.detectors.extend(detectors)  # type: ignore[arg-type]
    return shield


def test_settled_tells_signals_from_awaitables() -> None:
    assert settled(())
    assert settled([Signal("a", 1.0)])
    coroutine = Later()._wait("/x")
    assert not settled(coroutine)
    coroutine.close()


@pytest.mark.parametrize("path", ["/now", "/wait"])
async def test_the_memory_path_awaits_only_what_is_unfinished(path: str) -> None:
    later = Later()
    shield = shield_with(later)
    decision = await shield.decide(shield.facts(synthetic_scope(path=path)))
    expected = "test/now" if path == "/now" else "test/later/wait"
    assert expected in [s.name for s in decision.reasons]
    assert later.calls == [path]  # detect_now ran once: the work is never done twice


@pytest.mark.parametrize("path", ["/now", "/wait"])
async def test_detect_gives_detect_nows_answer(path: str) -> None:
    later = Later()
    ctx = RequestContext(MemoryStore())
    shield = shield_with()
    found = await later.detect(shield.facts(synthetic_scope(path=path)), ctx)
    assert [s.name for s in found] == ["test/now" if path == "/now" else "test/later/wait"]


async def test_a_failing_detect_now_fails_open(caplog: pytest.LogCaptureFixture) -> None:
    shield = shield_with(Failing(), Later())
    decision = await shield.decide(shield.facts(synthetic_scope(path="/now", user_agent=UA)))
    assert decision.allowed, decision
    assert "test/now" in [s.name for s in decision.reasons]  # the next detector still ran
    assert "detector failing failed" in caplog.text


async def test_a_detector_replaced_in_the_list_is_the_one_that_runs() -> None:
    first, second = Later(), Later()
    shield = shield_with(first)
    scope = synthetic_scope(path="/now", user_agent=UA)
    await shield.decide(shield.facts(scope))
    shield.detectors[-1] = second  # in place: the same list, the same length
    await shield.decide(shield.facts(scope))
    assert (first.calls, second.calls) == (["/now"], ["/now"])
