"""Directives: robots.txt and the AI opt-out signals, served and attached from settings."""

from __future__ import annotations

from scrapeshield.directives.base import Endpoint, Headers, ResponseFilter
from scrapeshield.directives.robots import RobotsTxt
from scrapeshield.settings import Settings


def build_endpoints(settings: Settings) -> list[Endpoint]:
    return [RobotsTxt()]


def build_response_filters(settings: Settings) -> list[ResponseFilter]:
    return []


__all__ = ["Endpoint", "Headers", "ResponseFilter", "build_endpoints", "build_response_filters"]
