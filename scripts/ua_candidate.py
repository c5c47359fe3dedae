"""What a candidate bot rule would change on the development pools, before it is written.

.venv/bin/python scripts/ua_candidate.py REGEX [--family NAME ...] [--list N]

REGEX (case-insensitive, searched in the agent) stands for the rule: the script counts, per
development pool (dev-A, dev-B, dev-new), the browsers not flagged today that it would flag,
the bots not caught today that it would catch (with the catalogue, and by the heuristics alone,
an empty catalogue: what an agent nobody has named meets) and the apps it would flag.
`--family` keeps only agents ua-parser gives one of these families. It lists up to N agents
(default 12) of dev-A and dev-new, never dev-B's (counts only: dev-B stands in for unseen
agents) and never reads the eval half (docs/detection.md, "Quality": eval is measured once per
round, on the kept changes, with scripts/ua_quality_report.py).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from scrapeshield.fingerprint.catalogue import Catalogue, load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.fingerprint.uacues import BOT_WORD_HINTS
from scrapeshield.fingerprint.uaparse import ParsedAgent, self_naming_resolver, shared_resolver

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package
from tests.ua_corpus import in_half, load

POOLS = ("dev-A", "dev-B", "dev-new")
LISTED = ("dev-A", "dev-new")


def ua_family(agent: str) -> str:
    """The family ua-parser gives the agent, asked as the classifier asks it (a bot's
    `UAInfo.family` is "Other")."""
    return ParsedAgent(
        agent.strip(), shared_resolver(), self_naming_resolver(BOT_WORD_HINTS)
    ).family


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("regex")
    parser.add_argument("--family", action="append", default=[])
    parser.add_argument("--list", type=int, default=12)
    args = parser.parse_args()
    rule = re.compile(args.regex, re.IGNORECASE)
    full = UAClassifier(load_catalogue(), cache_size=1 << 20)
    bare = UAClassifier(Catalogue((), "none"), cache_size=1 << 20)
    for pool in POOLS:
        found: dict[str, list[str]] = {"browser": [], "bot": [], "bot, heuristics": [], "app": []}
        for sample in load():
            if sample.label not in ("browser", "bot", "app") or not in_half(sample, pool):
                continue
            if not rule.search(sample.ua):
                continue
            info = full.classify(sample.ua)
            if args.family and ua_family(sample.ua) not in args.family:
                continue
            if sample.label != "bot" and not info.is_bot:
                found[sample.label].append(sample.ua)
            elif sample.label == "bot":
                if not info.is_bot:
                    found["bot"].append(sample.ua)
                if not bare.classify(sample.ua).is_bot:
                    found["bot, heuristics"].append(sample.ua)
        print(
            f"{pool}: browsers +{len(found['browser'])}, bots +{len(found['bot'])}"
            f" (heuristics alone +{len(found['bot, heuristics'])}), apps +{len(found['app'])}"
        )
        if pool in LISTED:
            for kind, uas in found.items():
                for ua in uas[: args.list]:
                    print(f"    {kind:<16} {ua[:180]}")


if __name__ == "__main__":
    main()
