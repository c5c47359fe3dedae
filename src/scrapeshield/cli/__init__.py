"""The `scrapeshield` command, one module per subcommand (demo, explain, log, bans, robots...),
each imported when it runs (the options of all are in `parsers`).

An application of the library: may import anything in it, and nothing in the library imports
the CLI.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from scrapeshield.cli.parsers import build_parser
from scrapeshield.errors import ConfigurationError, SourceError, StoreError


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
    except SourceError as exc:  # a missing log file, a memory store
        print(f"scrapeshield {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `scrapeshield log tail | head`: the reader left; so do we
        _silence_stdout()
        return 141  # 128 + SIGPIPE, as a shell tool killed by it
    except KeyboardInterrupt:
        return 130
    return result


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing to flush
        pass


__all__ = ["build_parser", "main"]
