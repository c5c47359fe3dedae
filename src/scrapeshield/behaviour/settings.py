"""Settings for the behaviour and trap detectors (docs/behaviour.md explains every threshold).

Kept outside the detector package so importing it never imports `scrapeshield.settings`.
"""

from __future__ import annotations

from pydantic import Field

from scrapeshield.settings_base import Section


class BehaviourSettings(Section):
    """Per-client counters over a sliding window; thresholds are deliberately far from people.

    `images_per_page` must stay above the number of originals your largest listing page shows
    (the demo's index shows 48); `harvest_margin` originals past a threshold turn a challenge
    into a block (`behaviour/harvesting`).
    """

    enabled: bool = True
    window: float = Field(default=300.0, ge=10, le=86_400)
    images_per_page: float = Field(default=60.0, ge=2, le=100_000)
    originals_without_page: int = Field(default=10, ge=2, le=100_000)
    page_memory: float = Field(default=600.0, ge=10, le=86_400)
    harvest_margin: int = Field(default=20, ge=1, le=100_000)
    no_assets_pages: int = Field(default=30, ge=5, le=100_000)
    sequential_run: int = Field(default=15, ge=3, le=100)
    sequential_ttl: float = Field(default=120.0, ge=5, le=86_400)
    trap: bool = True
    trap_flag_ttl: float = Field(default=900.0, ge=0, le=30 * 86_400)
