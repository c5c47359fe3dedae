"""The `scrapeshield` command, one module per subcommand (demo, explain, log, bans, robots...).

An application of the library: may import anything in it, and nothing in the library imports
the CLI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scrapeshield.cli import bans, demo, directives, explain, log, robots, update_data
from scrapeshield.errors import ConfigurationError, StoreError

COMMANDS = (demo, explain, log, bans, robots, directives, update_data)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scrapeshield", description="Stop scrapers from harvesting your artwork."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except ConfigurationError as exc:
        print(f"scrapeshield: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:  # e.g. Redis down: say so instead of a traceback
        print(f"scrapeshield: the store is unavailable: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


__all__ = ["build_parser", "main"]
