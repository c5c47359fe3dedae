"""The `[fast_lane]` settings section (docs/settings.md, docs/architecture.md)."""

from __future__ import annotations

from scrapeshield.settings_base import Section


class FastLaneSettings(Section):
    """The fast lane's steps built so far (off by default until a step reaches its target).

    `enabled`: the steady detectors (user agent, header consistency and order, datacenter,
    empty user agent) are answered once per header set and network, from one table
    (`fastlane.steady`), their signals and notes replayed on a repeat.
    """

    enabled: bool = False
