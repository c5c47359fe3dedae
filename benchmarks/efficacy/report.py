"""The table (printed) and docs/efficacy.md (written): figures first, then how they were made."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.efficacy.core import Result
from scrapeshield.demo.art import ARTWORK_COUNT

COLUMNS = (
    "adversary", "class", f"originals of {ARTWORK_COUNT}", "requests", "first stop at",
    "stopping rule", "time", "originals/h", "target", "result",
)  # fmt: skip


def row(result: Result) -> list[str]:
    if result.skipped:
        return [result.name, result.threat, "-", "-", "-", f"skipped: {result.skipped}", "-",
                "-", result.target.text, result.verdict]  # fmt: skip
    first = "never"
    if result.first_stop is not None:
        first = f"#{result.first_stop} ({result.first_stop_kind})"
    originals = str(result.originals)
    if result.projected:
        originals += "*"
    return [
        result.name,
        result.threat,
        originals,
        str(result.requests),
        first,
        result.first_rule or "none logged",
        f"{result.seconds:g} s",
        f"{result.per_hour:,}" if result.per_hour else "-",
        result.target.text,
        result.verdict,
    ]


def text_table(results: Sequence[Result]) -> str:
    rows = [list(COLUMNS), *(row(r) for r in results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: Sequence[Result]) -> str:
    def cells(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = [cells(COLUMNS), cells(["---"] * len(COLUMNS))]
    lines += [cells(row(r)) for r in results]
    return "\n".join(lines)


def details(results: Sequence[Result], descriptions: dict[str, str]) -> str:
    out = []
    for r in results:
        out.append(f"### {r.name}\n")
        out.append(f"- what it does: {descriptions.get(r.name, '')}")
        out.append(f"- server: {r.server}")
        if r.skipped:
            out.append(f"- skipped: {r.skipped}\n")
            continue
        out.append(f"- ended by: {r.ended_by}; {r.requests} requests in {r.seconds:g} s")
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items()))
        statuses = ", ".join(f"{k}×{v}" for k, v in r.statuses.items())
        out.append(f"- answers: {outcomes} (HTTP {statuses})")
        rules = ", ".join(f"{k} ×{v}" for k, v in r.rules.items()) or "none"
        out.append(f"- block log: {rules}")
        if r.projected:
            out.append(f"- {r.projected}")
        out.extend(f"- {note}" for note in r.notes)
        out.append("")
    return "\n".join(out)
