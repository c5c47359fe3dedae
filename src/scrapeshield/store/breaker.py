"""A circuit breaker: a dead or slow store costs about two timeouts, then calls fail fast until it
heals; a single slow moment costs only the calls that waited on it.

closed ──failures for `tolerance`──► open ──cooldown elapsed──► half-open ──success──► closed
                                      ▲                             │
                                      └──────────failure────────────┘

Why a tolerance: the calls in flight when Redis stalls once (a fork for a snapshot, a network
hiccup) or when the event loop itself is held up (a blocking handler) all fail at about the same
moment, and the next call succeeds. Opening on the first of them would switch enforcement off for
a whole cooldown on every such moment; the breaker opens only when failures go on, without a
success, for `tolerance` seconds. The Redis store passes half its `store_timeout`: a call made
after a streak's first failure fails a whole timeout later, so the second timeout in a row opens
the breaker, though a timer may fire a millisecond early (uvloop counts in whole milliseconds;
a tolerance of the full timeout left that second failure on the edge). In half-open state the
first failure opens it again at once.

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
    def __init__(
        self, name: str, *, cooldown: float, fail_mode: str = "open", tolerance: float = 0.0
    ) -> None:
        self.name = name
        self.cooldown = cooldown
        self.fail_mode = fail_mode
        self.tolerance = tolerance
        self.state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._failing_since: float | None = None  # the first failure since the last success
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
        now = time.monotonic()
        if self.state is BreakerState.CLOSED:
            if self._failing_since is None:
                self._failing_since = now
            if now - self._failing_since < self.tolerance:
                return  # a moment's failures: the next call tries the store again
        self._opened_at = now
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
        self._failing_since = None
        if self.state is not BreakerState.CLOSED:
            self.state = BreakerState.CLOSED
            logger.warning("store %s available again; enforcing normally", self.name)
