"""The detector seam: small objects that read `Facts` (and the store) and yield `Signal`s.

Adding a detector never touches the middleware: it is listed in `build_detectors`. Detectors
that touch the store set `uses_store = True`; they run concurrently so their store commands share
one round trip. A detector that raises yields no signals (logged), or with `fail_mode="closed"`
fails the request closed (503); one whose store is unavailable marks the request so fail-closed
mode can act on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from scrapeshield.facts import Facts
from scrapeshield.signals import Signal
from scrapeshield.store.base import Store


@dataclass(slots=True)
class RequestContext:
    """Per-request scratch space shared by the stages (never stored on the middleware)."""

    store: Store
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    store_failed: bool = False
    notes: dict[str, Any] = field(default_factory=dict)
    banned: bool | None = None
    """Whether the ban phase found a ban, once it has run (before the store detectors on the
    memory store; None while unknown, e.g. on Redis, where they run concurrently)."""


class Detector(Protocol):
    name: str
    uses_store: bool

    async def detect(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]: ...
