"""A circuit breaker: a dead or slow store costs one timeout, then calls fail fast until it heals.

closed ──failure──► open ──cooldown elapsed──► half-open ──success──► closed
                      ▲                             │
                      └──────────failure────────────┘

State changes are logged once each (not once per request), on the `scrapeshield` logger.
"""

from __future__ import annotations

import enum
import logging
import time

logger = logging.getLogger("scrapeshield")


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(self, name: str, *, cooldown: float, fail_mode: str = "open") -> None:
        self.name = name
        self.cooldown = cooldown
        self.fail_mode = fail_mode
        self.state = BreakerState.CLOSED
        self._opened_at = 0.0
        self.failures = 0

    def allow(self) -> bool:
        """May a call be attempted now? In half-open state calls go through as probes."""
        if self.state is BreakerState.OPEN:
            if time.monotonic() - self._opened_at < self.cooldown:
                return False
            self.state = BreakerState.HALF_OPEN
        return True

    def record_failure(self, error: BaseException) -> None:
        self.failures += 1
        self._opened_at = time.monotonic()
        if self.state is not BreakerState.OPEN:
            was = self.state
            self.state = BreakerState.OPEN
            if was is BreakerState.CLOSED:
                logger.warning(
                    "store %s unavailable (%s: %s); failing %s, retrying every %.1fs",
                    self.name,
                    type(error).__name__,
                    error,
                    self.fail_mode,
                    self.cooldown,
                )

    def record_success(self) -> None:
        if self.state is not BreakerState.CLOSED:
            self.state = BreakerState.CLOSED
            logger.warning("store %s available again; enforcing normally", self.name)
