"""Print the user-agent quality figures reported in docs/detection.md, on both corpus halves.

.venv/bin/python scripts/ua_quality_report.py [--nested] [--no-eval] [--misses] [--eval-misses]

`--misses` lists what is missed or wrongly flagged on the dev half and in the AI and tool
sets: patterns are tuned on those. `--eval-misses` lists the eval half's, for inspecting
label noise only (tuning on them would void the held-out figures). `--nested` reports the dev
half as its two hash halves, dev-A and dev-B (tests/ua_corpus.nested_split), and `--misses`
then lists dev-A's only: changes are decided on dev-A, and dev-B, never listed, shows whether
they generalise to agents they were not read from. `--no-eval` leaves the eval half out, so a
change is decided on dev-A and checked on dev-B before its one eval measurement.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import user_agents

from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package
from tests.ua_corpus import NOISE_LABELS, in_half, load
from tests.ua_labelled import SCRAPER_TOOLS, measure


def main() -> None:
    start = time.perf_counter()
    classifier = UAClassifier(load_catalogue(), cache_size=1 << 20)
    halves = ("dev-A", "dev-B", "eval") if "--nested" in sys.argv else ("dev", "eval")
    if "--no-eval" in sys.argv:
        halves = halves[:-1]
    figures = measure(classifier, halves=halves)
    for figure in figures.values():
        print(figure.line())
        half = figure.name[figure.name.rfind("[") :]
        show = {"[eval]": "--eval-misses", "[dev-B]": None}.get(half, "--misses")
        if show in sys.argv:
            for ua in figure.misses:
                print(f"    {ua[:200]}")
    for label in NOISE_LABELS:  # label noise set apart by tests/ua_corpus, on every half
        for half in halves:
            uas = [s.ua for s in load() if s.label == label and in_half(s, half)]
            flagged = sum(classifier.classify(ua).is_bot for ua in uas)
            print(f"{'label noise ' + label + ' (no target) flagged [' + half + ']':<52}"
                  f" {flagged:>6}/{len(uas):<6}")  # fmt: skip
    if "--no-eval" in sys.argv:  # the comparison below reads the whole corpus
        print(f"({time.perf_counter() - start:.1f} s)")
        return
    bots = [s.ua for s in load() if s.label == "bot"]
    legacy = sum(user_agents.parse(ua).is_bot for ua in bots)
    tools = sum(user_agents.parse(ua).is_bot for ua in SCRAPER_TOOLS)
    print(
        f"for comparison, user_agents.parse().is_bot: bots {legacy}/{len(bots)}"
        f" ({100 * legacy / len(bots):.2f}%), scraper tools {tools}/{len(SCRAPER_TOOLS)}"
    )
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
