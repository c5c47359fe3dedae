"""Run adversaries one by one, each against a fresh demo, and judge each against its target."""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.core import TAIL, Budget, Ledger, Result
from benchmarks.efficacy.server import demo
from scrapeshield.demo.art import ARTWORK_COUNT

MIN_RATE_SECONDS = 10.0
_POLICY = re.compile(r'"(images-[^"]+)";q=(\d+);w=(\d+)')


def _image_quota_per_hour(policies: set[str], wanted: int) -> float | None:
    """The tightest image-route limit the server announced that `wanted` more originals would
    run into, in originals per hour (a quota of q per window never binds below q requests)."""
    rates = [
        int(q) * 3600 / int(w)
        for text in policies
        for _, q, w in _POLICY.findall(text)
        if int(q) < wanted
    ]
    return min(rates) if rates else None


def judge(
    adversary: Adversary, ledger: Ledger, events: list[dict[str, Any]], server: str
) -> Result:
    rules: Counter[str] = Counter()
    first_rule = ""
    for event in events:
        label = f"{event.get('rule')} ({event.get('action')})"
        rules[label] += 1
        if not first_rule and event.get("action") != "allow":
            first_rule = label
    originals = len(ledger.originals)
    seconds = ledger.elapsed
    per_hour = originals / seconds * 3600 if originals and seconds > 0 else None

    result = Result(
        name=adversary.name,
        threat=adversary.threat,
        target=adversary.target,
        server=server,
        originals=originals,
        requests=ledger.requests,
        first_stop=ledger.first_stop,
        first_stop_kind=ledger.first_stop_kind,
        outcomes=dict(ledger.outcomes),
        statuses=dict(sorted(ledger.statuses.items())),
        seconds=round(seconds, 1),
        ended_by=ledger.why_done(),
        rules=dict(rules.most_common()),
        first_rule=first_rule,
        notes=ledger.notes,
        # a rate from a fraction of a second says nothing about an hour: shown from 10 s up
        per_hour=round(per_hour) if per_hour and seconds >= MIN_RATE_SECONDS else None,
    )
    target = adversary.target
    if target.person:
        refused = {k: ledger.outcomes.get(k, 0) for k in ("block", "throttle", "decoy")}
        logged = sum(1 for e in events if e.get("action") in ("block", "ban", "throttle"))
        challenges = ledger.outcomes.get("challenge", 0)
        ok = not any(refused.values()) and not logged and challenges <= 1
        result.verdict = "PASS" if ok else "FAIL"
        result.notes.append(
            f"blocked {refused['block']}, throttled {refused['throttle']}, decoyed "
            f"{refused['decoy']}, challenged {challenges}; block/throttle log lines: {logged}"
        )
        return result
    assert target.originals is not None
    cut = result.ended_by.startswith("wall cap") and originals < ARTWORK_COUNT and per_hour
    if cut and not ledger.still_served():
        result.notes.append(
            f"wall cap reached, not extrapolated: the last {TAIL} answers were not all content "
            f"({', '.join(ledger.last) or 'none'})"
        )
    elif cut and per_hour:
        quota = _image_quota_per_hour(ledger.policies, ARTWORK_COUNT - originals)
        rate = min(per_hour, quota) if quota else per_hour
        hours = (ARTWORK_COUNT - originals) / rate
        result.projected = (
            f"extrapolated: all {ARTWORK_COUNT} after {_duration(seconds + hours * 3600)} "
            f"at {rate:,.0f} originals/h (the measured rate, capped by any image limit of "
            "RateLimit-Policy the rest would run into; assumes nothing else stops it later)"
        )
    if originals > target.originals:
        result.verdict = "FAIL"
    elif result.projected:
        result.verdict = "FAIL (extrapolated)"
    else:
        result.verdict = "PASS"
    return result


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def run_one(adversary: Adversary, store_url: str, budget: Budget) -> Result:
    reason = adversary.unavailable()
    description = adversary.options.describe(store_url)
    if reason is not None:
        empty = Ledger(budget)
        result = judge(adversary, empty, [], description)
        result.skipped, result.verdict = reason, "SKIPPED"
        return result
    with demo(store_url, adversary.options) as server:
        ledger = Ledger(budget)
        try:
            adversary.run(server.url, ledger)
        except Exception as exc:  # a broken adversary is reported, never hidden
            ledger.notes.append(f"adversary error: {type(exc).__name__}: {exc}")
        ledger.ended = time.monotonic()
        time.sleep(0.3)  # the block log is line-buffered; let the last lines land
    events = server.events()
    server.cleanup()
    result = judge(adversary, ledger, events, description)
    if ledger.requests == 0:
        result.notes.append("adversary error: it sent no request (a broken tool, not a defence)")
    if any(n.startswith("adversary error") for n in ledger.notes):
        result.verdict = "ERROR"
    return result
