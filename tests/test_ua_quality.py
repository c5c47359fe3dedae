"""The labelled corpus meets issue 16's quality targets on its eval half (docs/detection.md).

The eval half is never looked at when tuning patterns (tests/ua_corpus.py, split by hash);
scripts/ua_quality_report.py prints the same figures for both halves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier
from tests.ua_corpus import DEV_ONLY, gc_paused, load
from tests.ua_labelled import Figure, measure

# Targets not met on the eval half yet (docs/detection.md says by how much); strict, so the day
# they are met the marker must go. The floors below fail the suite on any regression meanwhile.
PENDING = pytest.mark.xfail(strict=True, reason="issue 16 target not met yet on the eval half")


@pytest.fixture(scope="module", autouse=True)
def _corpus_freed() -> Iterator[None]:
    """The ~800,000 samples `load` keeps are let go after this module: every later cyclic
    collection of the suite would otherwise walk them all."""
    yield
    load.cache_clear()


@pytest.fixture(scope="module")
def figures() -> dict[str, Figure]:
    with gc_paused():  # the classifier's cache of 2**18 agents: the same walks as in `load`
        return measure(UAClassifier(load_catalogue(), cache_size=1 << 18), untargeted=False)


@PENDING
def test_browser_false_positives_at_most_0_05_percent(figures: dict[str, Figure]) -> None:
    assert figures["browsers flagged [eval]"].rate <= 0.0005


def test_browsers_from_2022_on_false_positives_at_most_0_01_percent(
    figures: dict[str, Figure],
) -> None:
    assert figures["browsers from 2022 on flagged [eval]"].rate <= 0.0001


@PENDING
def test_bot_recall_at_least_97_percent(figures: dict[str, Figure]) -> None:
    assert figures["bots recalled [eval]"].rate >= 0.97


def test_no_regression_below_the_measured_figures(figures: dict[str, Figure]) -> None:
    """The eval-half figures of the last commit that changed them (docs/detection.md)."""
    assert figures["browsers flagged [eval]"].hits <= 43
    assert figures["browsers from 2022 on flagged [eval]"].hits <= 0
    assert figures["bots recalled [eval]"].hits >= 2571


def test_every_ai_agent_blocked_by_an_ai_rule(figures: dict[str, Figure]) -> None:
    assert figures["AI agents blocked by an AI rule"].misses == []


def test_every_ai_robots_agent_recognised(figures: dict[str, Figure]) -> None:
    assert figures["ai.robots.txt agents recognised"].rate == 1.0


def test_every_scraper_tool_headless_and_dataset_downloader_categorised(
    figures: dict[str, Figure],
) -> None:
    assert figures["scraper tools, category scraper-tool"].rate == 1.0
    assert figures["headless browsers, category headless-browser"].rate == 1.0
    assert figures["dataset downloaders, category ai-dataset"].rate == 1.0


def test_the_labelled_set_is_not_vacuous(figures: dict[str, Figure]) -> None:
    """Issue 16 asks for 100,000 browsers and 3,000 bots in all: each half holds about half."""
    assert figures["browsers flagged [eval]"].total >= 60_000
    assert figures["browsers from 2022 on flagged [eval]"].total >= 15_000
    assert figures["bots recalled [eval]"].total >= 2_500
    assert figures["AI agents blocked by an AI rule"].total >= 300
    assert figures["ai.robots.txt agents recognised"].total == 166


def test_the_whole_corpus_is_as_large_as_issue_16_asks() -> None:
    labels = Counter(sample.label for sample in load())
    assert labels["browser"] >= 100_000
    assert labels["bot"] >= 3_000


def test_the_development_only_sources_never_reach_the_eval_half(
    figures: dict[str, Figure],
) -> None:
    """The development-only sources (DEV_ONLY: rounds six, nine and thirteen to fifteen) add
    agents to the dev-new pool only: an agent another source lists keeps its half, label and
    tags, so eval's denominators stay those of round five (change them only with a rebuild of
    the old sources, in a commit of its own)."""
    samples = load()
    new = [s for s in samples if s.new]
    assert len(new) > 100_000
    assert all(s.half == "dev-new" and s.sources <= DEV_ONLY for s in new)
    assert not any(s.sources & DEV_ONLY for s in samples if not s.new)
    # every development-only source gives dev-new agents of its own (rounds thirteen's to
    # fifteen's too)
    assert {source for s in new for source in s.sources} == DEV_ONLY
    assert figures["browsers flagged [eval]"].total == 64_671
    assert figures["bots recalled [eval]"].total == 2_653
    assert figures["AI agents blocked by an AI rule"].total == 332
