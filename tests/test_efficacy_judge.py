"""The harness's verdicts (benchmarks/efficacy/runner.judge) on made-up ledgers: a run the wall
cap ended is extrapolated only while the shield still served the client."""

from __future__ import annotations

from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.core import BROWSERLIKE, Budget, Ledger, reference_hashes
from benchmarks.efficacy.runner import judge


def _ledger(served: int, then: list[tuple[int, bytes]]) -> Ledger:
    """`served` originals answered with their real bytes, then (status, body) answers, the whole
    run taking 20 s of a 20 s wall cap."""
    ledger = Ledger(Budget(seconds=20.0))
    hashes = reference_hashes()
    for artwork in range(1, served + 1):
        ledger._count(f"/images/{artwork}.png", 200, hashes[artwork], "ok")
        ledger.requests += 1
    for n, (status, body) in enumerate(then, start=served + 1):
        ledger.record(f"/images/{n}.png", status, body, {})
    ledger.ended = ledger.started + 20.0
    return ledger


def _judge(ledger: Ledger) -> tuple[str, str]:
    result = judge(Adversary("x", "test", BROWSERLIKE, ""), ledger, [], "memory://")
    return result.verdict, result.projected


def test_a_run_still_served_at_the_wall_cap_is_extrapolated() -> None:
    verdict, projected = _judge(_ledger(30, []))
    assert verdict == "FAIL (extrapolated)"
    assert projected.startswith("extrapolated: all 300")


def test_a_run_the_shield_had_stopped_is_not_extrapolated() -> None:
    refusals = [(403, b'{"error":"blocked"}')] * 12
    verdict, projected = _judge(_ledger(30, refusals))
    assert verdict == "PASS"
    assert projected == ""


def test_one_refusal_among_the_last_answers_is_enough_to_stop_extrapolating() -> None:
    hashes = reference_hashes()
    ledger = _ledger(30, [(403, b"{}")])
    for artwork in range(40, 49):
        ledger._count(f"/images/{artwork}.png", 200, hashes[artwork], "ok")
    assert _judge(ledger)[0] == "PASS"
