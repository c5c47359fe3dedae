"""The labelled user-agent set meets the issue's quality targets (figures in docs/detection.md)."""

from __future__ import annotations

import pytest

from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier
from tests.ua_labelled import measure


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return {name: f.rate for name, f in measure(UAClassifier(load_catalogue())).items()}


def test_bot_recall_at_least_95_percent(figures: dict[str, float]) -> None:
    assert figures["bots (crawler-user-agents), recall"] >= 0.95


def test_every_ai_crawler_and_ai_robots_agent_recognised(figures: dict[str, float]) -> None:
    assert figures["AI crawlers (crawler-user-agents), recall"] == 1.0
    assert figures["ai.robots.txt agents, recognised + categorised"] == 1.0


def test_every_scraper_tool_headless_and_dataset_downloader_categorised(
    figures: dict[str, float],
) -> None:
    assert figures["HTTP libraries (crawler-user-agents), recall"] == 1.0
    assert figures["scraper tools, category scraper-tool"] == 1.0
    assert figures["headless browsers, category headless-browser"] == 1.0
    assert figures["dataset downloaders, category ai-dataset"] == 1.0


def test_browser_false_positives_at_most_0_05_percent(figures: dict[str, float]) -> None:
    assert figures["real browsers (user-agents), flagged as bots"] <= 0.0005


def test_the_labelled_set_is_not_vacuous() -> None:
    figures = measure(UAClassifier(load_catalogue()))
    assert figures["bots (crawler-user-agents), recall"].total >= 2000
    assert figures["real browsers (user-agents), flagged as bots"].total >= 900
    assert figures["ai.robots.txt agents, recognised + categorised"].total == 166
