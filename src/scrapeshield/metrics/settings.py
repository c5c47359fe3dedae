"""The `metrics` settings section: Prometheus metrics, off by default (docs/dashboard.md)."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import Field, field_validator

from scrapeshield.settings_base import Section

DEFAULT_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
)  # fmt: skip
"""Seconds: the middleware adds tens of microseconds on memory, a round trip on Redis."""


class MetricsSettings(Section):
    """`enabled` needs the `prometheus` extra. `registry`: a prometheus_client registry the app
    already exposes (Python only); None registers on a registry of the shield's own, served by
    the dashboard at `<mount>/metrics`."""

    enabled: bool = False
    registry: Any = Field(default=None, exclude=True)
    buckets: list[float] = Field(default=list(DEFAULT_BUCKETS), min_length=1, max_length=40)

    @field_validator("registry")
    @classmethod
    def _a_registry(cls, value: Any) -> Any:
        if value is not None and not all(
            callable(getattr(value, name, None)) for name in ("register", "unregister")
        ):
            raise ValueError("expected a prometheus_client CollectorRegistry (Python only)")
        return value

    @field_validator("buckets")
    @classmethod
    def _increasing(cls, values: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(values)) or values[0] <= 0:
            raise ValueError("histogram buckets are positive seconds in increasing order")
        return values
