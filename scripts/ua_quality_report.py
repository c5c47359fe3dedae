"""Print the labelled-set quality figures reported in docs/detection.md.

.venv/bin/python scripts/ua_quality_report.py [--misses]
"""

from __future__ import annotations

import sys

import user_agents
from tests.ua_labelled import SCRAPER_TOOLS, bots, measure

from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier


def main() -> None:
    for figure in measure(UAClassifier(load_catalogue())).values():
        print(figure.line())
        if "--misses" in sys.argv and "browsers" not in figure.name:
            for ua in figure.misses:
                print(f"    miss: {ua[:140]}")
    all_bots = [ua for ua, _ in bots()]
    legacy = sum(user_agents.parse(ua).is_bot for ua in all_bots)
    tools = sum(user_agents.parse(ua).is_bot for ua in SCRAPER_TOOLS)
    print(
        f"for comparison, user_agents.parse().is_bot: bots {legacy}/{len(all_bots)}"
        f" ({100 * legacy / len(all_bots):.2f}%), scraper tools {tools}/{len(SCRAPER_TOOLS)}"
    )


if __name__ == "__main__":
    main()
