"""The directive state in force for a response, recorded as a short id per event.

A state is what the site declared for a path when it answered: the robots.txt version it was
serving (ETag), and the opt-out fields its pages and images carried there (`X-Robots-Tag`,
`TDM-Reservation`, `TDM-Policy`, `Content-Usage`, from the path preferences). Whole texts per
event would cost kilobytes each; instead the state's digest goes in the event and each distinct
state is stored once, under `directives:<id>` in the store (for `states_ttl`) and as one
`directives` record on `scrapeshield.blocklog.directives` (for readers of a log file). A site
has a handful of states (one per path rule and robots.txt version), so the table stays small.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from scrapeshield.blocklog import LOGGER_NAME, STATE_EVENT, emit
from scrapeshield.directives.headers import directive_headers
from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.settings import DirectivesSettings, Preferences
from scrapeshield.store.base import Store

STATE_PREFIX = "directives:"
_MAX_STATES = 256  # cached and remembered as written, per process
_RETRY = 60.0  # seconds before a state the store refused is written (and logged) again
#: A child of the block logger: its handlers get these records, `scrapeshield.blocklog` events only.
state_logger = logging.getLogger(LOGGER_NAME + ".directives")


def state_id(state: dict[str, Any]) -> str:
    """16 hex characters of SHA-256 over the state's canonical JSON."""
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class DirectiveStates:
    """Computes a path's state id (cached per robots version and preference), and writes each
    new state once per `states_ttl / 2` (so the table outlives the events that name it)."""

    def __init__(
        self,
        section: DirectivesSettings,
        store: Store,
        endpoints: list[Any],
        *,
        ttl: float,
        level: int = logging.WARNING,
    ) -> None:
        self.section = section
        self.store = store
        self.ttl = ttl
        self.level = level
        self.preferences = PreferenceResolver(section)
        robots = [e for e in endpoints if getattr(e, "path", None) == "/robots.txt"]
        self._robots = robots[0] if robots else None
        self._states: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = {}
        self._written: dict[str, float] = {}

    def robots_etag(self) -> str | None:
        return getattr(self._robots, "etag", None) if self._robots is not None else None

    def state_for(self, path: str) -> tuple[str, dict[str, Any]]:
        """The (id, state) in force for `path`."""
        prefs = self.preferences.for_path(path)
        etag = self.robots_etag()
        key = (etag, prefs.train_ai, prefs.search, getattr(prefs, "prefix", None))
        found = self._states.get(key)
        if found is None:
            state = self._describe(prefs, etag)
            if len(self._states) >= _MAX_STATES:
                self._states.clear()
            found = self._states[key] = (state_id(state), state)
        return found

    def _describe(self, prefs: Preferences, etag: str | None) -> dict[str, Any]:
        section = self.section
        headers = (
            {k.decode(): v.decode("latin-1") for k, v in directive_headers(prefs, section)}
            if section.headers
            else {}
        )
        return {
            "robots_txt": {"mode": section.robots, "etag": etag},
            "headers": headers,
            "preferences": {
                "train_ai": prefs.train_ai,
                "search": prefs.search,
                "prefix": getattr(prefs, "prefix", None),
                "hook": self.preferences.has_hook,  # an artist's hook may override per request
            },
            "tdmrep_json": section.tdmrep_json,
            "ai_txt": section.ai_txt,
        }

    async def record(self, path: str) -> str:
        """The state id for `path`, its state written to the store and the logger if new."""
        sid, state = self.state_for(path)
        now = time.time()
        if now - self._written.get(sid, 0.0) > self.ttl / 2:
            if len(self._written) >= _MAX_STATES:
                self._written.clear()
            self._written[sid] = now
            record = {"event": STATE_EVENT, "time": round(now, 3), "directives": sid}
            emit({**record, "state": state}, self.level, state_logger)
            try:
                await self.store.set(STATE_PREFIX + sid, json.dumps(state), ttl=self.ttl)
            except Exception:  # the store is down: try again with an event a minute later
                self._written[sid] = now - self.ttl / 2 + _RETRY
                raise
        return sid


async def load_states(store: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored states of these ids (missing ones left out: older than `states_ttl`)."""
    wanted = sorted(set(ids))
    values = await store.get_many([STATE_PREFIX + i for i in wanted]) if wanted else []
    out: dict[str, dict[str, Any]] = {}
    for sid, raw in zip(wanted, values, strict=True):
        if raw:
            try:
                out[sid] = json.loads(raw)
            except ValueError:
                continue
    return out
