"""Export events as JSON lines or CSV. CSV cells a spreadsheet would run as a formula (a path or
user agent starting with `=`, `+`, `-`, `@`) are prefixed with `'`: they are the client's text."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterable
from typing import Any, TextIO

CSV_FIELDS = (
    "ts", "time", "event", "action", "rule", "enforced", "score", "client_key", "client_ip",
    "method", "path", "route_group", "agent", "category", "directives", "request_id",
    "user_agent", "reasons",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_row(event: dict[str, Any]) -> list[str]:
    reasons = "; ".join(
        f"{r.get('name')}({r.get('weight')})"
        for r in event.get("reasons") or ()
        if isinstance(r, dict)
    )
    return [_cell(reasons if name == "reasons" else event.get(name)) for name in CSV_FIELDS]


async def export(events: AsyncIterable[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write `events` to `out` as `jsonl` or `csv`; the number written."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(CSV_FIELDS)
        async for event in events:
            writer.writerow(csv_row(event))
            count += 1
        return count
    if fmt != "jsonl":
        raise ValueError(f"unknown export format {fmt!r} (jsonl or csv)")
    async for event in events:
        out.write(json.dumps(event, separators=(",", ":"), ensure_ascii=True) + "\n")
        count += 1
    return count
