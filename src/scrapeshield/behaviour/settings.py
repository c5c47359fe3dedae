"""Settings for the behaviour and trap detectors (docs/behaviour.md explains every threshold).

Kept outside the detector package so importing it never imports `scrapeshield.settings`.
"""

from __future__ import annotations

from pydantic import Field

from scrapeshield.settings_base import Section


class BehaviourSettings(Section):
    """Per-client counters over a fixed window; thresholds are deliberately far from people."""

    enabled: bool = True
    window: float = Field(default=300.0, ge=10, le=86_400)
    images_without_pages: int = Field(default=40, ge=5, le=100_000)
    no_assets_pages: int = Field(default=30, ge=5, le=100_000)
    sequential_run: int = Field(default=15, ge=3, le=100)
    sequential_ttl: float = Field(default=120.0, ge=5, le=86_400)
    trap: bool = True
    trap_flag_ttl: float = Field(default=900.0, ge=0, le=30 * 86_400)
