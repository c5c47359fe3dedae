"""Regenerate src/scrapeshield/fingerprint/data/agents.toml from ai.robots.txt's robots.json
and the manual entries.

.venv/bin/python scripts/build_catalogue.py [ROBOTS_JSON] [--commit SHA] [--date YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapeshield.fingerprint.catalogue_build import build

DATA = Path(__file__).resolve().parent.parent / "src" / "scrapeshield" / "fingerprint" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "robots_json", nargs="?", default="/work/shared/data/ai-robots-txt/robots.json"
    )
    parser.add_argument("--commit", default="738c80df2169")
    parser.add_argument("--date", default="2026-08-22")
    args = parser.parse_args()
    text = build(
        Path(args.robots_json).read_text("utf-8"),
        (DATA / "agents_manual.toml").read_text("utf-8"),
        commit=args.commit,
        date=args.date,
    )
    (DATA / "agents.toml").write_text(text, "utf-8")
    print(f"wrote {DATA / 'agents.toml'} ({text.count('[[agents]]')} agents)")


if __name__ == "__main__":
    main()
