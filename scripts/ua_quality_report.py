"""Print the user-agent quality figures reported in docs/detection.md, on both corpus halves.

.venv/bin/python scripts/ua_quality_report.py [--nested] [--no-eval] [--heuristics] [--misses]
    [--eval-misses]

`--misses` lists what is missed or wrongly flagged on the dev half and in the AI and tool
sets: patterns are tuned on those. `--eval-misses` lists the eval half's, for inspecting
label noise only (tuning on them would void the held-out figures). `--nested` reports the dev
half as its two hash halves, dev-A and dev-B (tests/ua_corpus.nested_split), and `--misses`
then lists dev-A's only: changes are decided on dev-A, and dev-B, never listed, shows whether
they generalise to agents they were not read from. `--no-eval` leaves the eval half out, so a
change is decided on dev-A and checked on dev-B before its one eval measurement.
`--heuristics` also prints what the bot heuristics catch with no catalogue name at all (what an
agent nobody has named yet meets), and with `--misses` lists dev-A's bots they miss: the dev
quarters' bots were named from their own misses in earlier rounds, so a new structural rule
shows there, not in the full recall.

`dev-new` (round six) is the pool of agents that only the development-only sources list
(tests/ua_corpus.DEV_ONLY); it is reported after the dev half(s), and `--misses` lists it too:
changes are decided on dev-A and dev-new.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import user_agents

from scrapeshield.fingerprint.catalogue import Catalogue, load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package
from tests.ua_corpus import NOISE_LABELS, in_half, load
from tests.ua_labelled import SCRAPER_TOOLS, measure


def main() -> None:
    start = time.perf_counter()
    classifier = UAClassifier(load_catalogue(), cache_size=1 << 20)
    nested = "--nested" in sys.argv
    halves = ("dev-A", "dev-B", "dev-new", "eval") if nested else ("dev", "dev-new", "eval")
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
    if "--heuristics" in sys.argv:
        heuristics(halves)
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


def heuristics(halves: tuple[str, ...]) -> None:
    """Bots caught and browsers flagged by the heuristics alone (an empty catalogue)."""
    bare = UAClassifier(Catalogue((), "none"), cache_size=1 << 20)
    for half in halves:
        mine = [s for s in load() if in_half(s, half)]
        bots = [s.ua for s in mine if s.label == "bot"]
        missed = [ua for ua in bots if not bare.classify(ua).is_bot]
        browsers = sum(bare.classify(s.ua).is_bot for s in mine if s.label == "browser")
        print(f"{'bots caught by the heuristics alone [' + half + ']':<52}"
              f" {len(bots) - len(missed):>6}/{len(bots):<6}"
              f" (browsers flagged by them: {browsers})")  # fmt: skip
        if half in ("dev", "dev-A", "dev-new") and "--misses" in sys.argv:
            for ua in missed:
                print(f"    {ua[:200]}")


if __name__ == "__main__":
    main()
