"""The event stream's entries on Redis: one JSON record in the field `e` of a stream entry,
whose id (`<milliseconds>-<sequence>`) gives its time."""

from __future__ import annotations

import json
from typing import Any

from scrapeshield.store.base import StoredEvent

FIELD = "e"


def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


def decode(rows: list[Any]) -> list[StoredEvent]:
    """XREVRANGE's rows, oldest first; a record that is not JSON is kept as `unreadable`."""
    events = []
    for event_id, fields in reversed(rows):
        raw = fields.get(FIELD) if isinstance(fields, dict) else _pairs(fields).get(FIELD)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"unreadable": raw}
        events.append(StoredEvent(event_id, int(event_id.split("-", 1)[0]) / 1000, data))
    return events


def _pairs(fields: list[Any]) -> dict[str, Any]:
    return {str(fields[i]): fields[i + 1] for i in range(0, len(fields) - 1, 2)}
