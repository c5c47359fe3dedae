"""Evidence reports: which requests of an agent, a client or a work were served or refused,
when, by which rule, under which directives; signed with HMAC-SHA256 so that a site can show
the file it attaches to a complaint is the one scrapeshield wrote.

The signature covers the canonical JSON of `report` (keys sorted, no spaces, ASCII):

    {"report": {...}, "signature": {"alg": "HMAC-SHA256", "key_id": "<8 hex>", "value": "<hex>"}}

`key_id` is the first 8 hex characters of SHA-256 of the key: it names the key, never reveals it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from scrapeshield.operators.filters import event_time

REPORT_FORMAT = "scrapeshield-evidence/1"
ALGORITHM = "HMAC-SHA256"
MAX_EVENTS = 10_000
_FIELDS = (
    "ts", "time", "event", "action", "enforced", "rule", "client_key", "client_ip", "method",
    "path", "agent", "category", "user_agent", "request_id", "directives",
)  # fmt: skip


class ReportError(ValueError):
    """A report that cannot be read or verified (the message says why)."""


def canonical(report: dict[str, Any]) -> bytes:
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def outcome(event: dict[str, Any]) -> str:
    """`served` (the content went out), `decoy`, `refused`, `served (monitor)`, or `read
    robots.txt` (the version is its directive state)."""
    if event.get("event") == "robots/fetched":
        return "read robots.txt"
    if event.get("action", "allow") == "allow" or event.get("event") == "decoy":
        return "served" if event.get("event") != "decoy" else "decoy"
    return "refused" if event.get("enforced", True) else "served (monitor)"


def build_report(
    events: list[dict[str, Any]],
    states: dict[str, dict[str, Any]],
    *,
    site: str,
    query: dict[str, Any],
    truncated: bool = False,
) -> dict[str, Any]:
    """The report (unsigned): the events trimmed to their evidence fields, with an `outcome`,
    in the order the requests came (an event is written when its request ends: a robots.txt
    fetch may be logged after the page that followed it), and the directive states they name."""
    rows = []
    counts: dict[str, int] = {}
    for event in sorted(events, key=event_time):  # (none: 0, first, in their order)
        row = {k: event.get(k) for k in _FIELDS}
        row["outcome"] = result = outcome(event)
        counts[result] = counts.get(result, 0) + 1
        rows.append(row)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "format": REPORT_FORMAT,
        "site": site,
        "generated": now,
        "query": query,
        "counts": counts,
        "truncated": truncated,
        "events": rows,
        "directive_states": {k: states[k] for k in sorted(states)},
    }


def sign(report: dict[str, Any], key: bytes) -> dict[str, Any]:
    value = hmac.new(key, canonical(report), hashlib.sha256).hexdigest()
    return {
        "report": report,
        "signature": {"alg": ALGORITHM, "key_id": key_id(key), "value": value},
    }


def verify(document: Any, key: bytes) -> dict[str, Any]:
    """The report if its signature is right for `key`; else `ReportError` saying what is wrong."""
    if not isinstance(document, dict) or not isinstance(document.get("report"), dict):
        raise ReportError("not a scrapeshield evidence report (no 'report' object)")
    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("alg") != ALGORITHM:
        raise ReportError(f"no {ALGORITHM} signature")
    if signature.get("key_id") != key_id(key):
        raise ReportError(
            f"signed with key {signature.get('key_id')!r}, not with this key ({key_id(key)})"
        )
    expected = hmac.new(key, canonical(document["report"]), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(signature.get("value", ""))):
        raise ReportError("the signature does not match: the report was changed after signing")
    report: dict[str, Any] = document["report"]
    return report


def signing_key(settings: Any) -> bytes | None:
    """`evidence.signing_key`, else the first `challenge.secret_keys` key; None if neither."""
    key = settings.evidence.signing_key
    if key is None and settings.challenge.secret_keys:
        key = settings.challenge.secret_keys[0]
    return key.get_secret_value().encode() if key is not None else None
