"""`scrapeshield robots`: print the robots.txt scrapeshield serves (and its trap paths)."""

from __future__ import annotations

import argparse
import sys

from scrapeshield.cli.common import load_settings
from scrapeshield.directives.build import generated_robots


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    mode = settings.directives.robots
    if mode == "off":
        print(
            "scrapeshield: directives.robots is off; the app's robots.txt is served",
            file=sys.stderr,
        )
        return 0
    if mode == "merge":
        print(
            "# directives.robots = merge: the app's own /robots.txt goes first, as operator rules",
            file=sys.stderr,
        )
    sys.stdout.write(generated_robots(settings))
    return 0
