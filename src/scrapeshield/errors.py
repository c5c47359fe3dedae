"""The exceptions scrapeshield raises, as one tree so callers can catch at the level they need.

    ScrapeShieldError
    ├── ConfigurationError      bad settings or rules, raised once at start-up listing every problem
    └── StoreError              the backing store misbehaved
        └── StoreUnavailable    the store is down, slow, or the circuit breaker is open

The middleware itself never lets any of these reach the application at request time: a store
failure fails open or closed as configured, and an internal error is logged and fails open.
"""

from __future__ import annotations

from collections.abc import Iterable


class ScrapeShieldError(Exception):
    """Base of every scrapeshield exception."""


class ConfigurationError(ScrapeShieldError):
    """Raised at start-up with every invalid setting, each prefixed by the setting's name."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        header = f"{count} invalid scrapeshield setting{'s' if count != 1 else ''}:"
        super().__init__("\n  ".join([header, *self.problems]))


class StoreError(ScrapeShieldError):
    """The backing store returned an error."""


class StoreUnavailable(StoreError):
    """The store cannot be reached in time (or the breaker is open): callers degrade gracefully."""


class SourceError(Exception):
    """An operators' event source that cannot be read (a missing file, a memory store): the
    message says why. Not a ScrapeShieldError: the request path never raises it. Defined here
    (and `scrapeshield.operators` gives it) so the CLI catches it without importing the store."""
