"""Detectors and the registry that builds them from settings."""

from __future__ import annotations

from scrapeshield.detectors.base import Detector, RequestContext
from scrapeshield.detectors.basic import BasicUserAgentDetector
from scrapeshield.ratelimit.detector import RateLimitDetector
from scrapeshield.settings import Settings


def build_detectors(settings: Settings) -> list[Detector]:
    """Every detector the settings enable, in the order their signals are reported."""
    detectors: list[Detector] = [BasicUserAgentDetector()]
    if settings.ratelimit.enabled:
        detectors.append(
            RateLimitDetector(
                settings.ratelimit,
                max_keys=settings.memory_max_keys,
                monitor=settings.mode == "monitor",
            )
        )
    return detectors


__all__ = ["Detector", "RequestContext", "build_detectors"]
