"""The command line: every subcommand's options, and which module runs it.

Declared here, apart from the subcommands' modules, so that `scrapeshield --help` and a usage
error import no more than argparse, and a subcommand imports what it needs when it runs (`log`
the store and the operators' read side, not the shield and its detectors' data).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

from scrapeshield.cli.common import add_settings_options, parse_duration
from scrapeshield.cli.explain_input import add_input_options

DEFAULT_IP = "198.18.0.7"
"""`explain`'s client: RFC 2544's benchmarking range, in no example of the docs (they use the
three TEST-NETs, so a default there could match a documented safelist), and never a real client."""
DEFAULT_HOST = "www.example.com"
"""`explain`'s Host: not this machine (`localhost` would make plain HTTP a secure context)."""
TARGET_HELP = "an IP address, or a network of the size clients are keyed by (/32 IPv4, /64 IPv6)"
VIEWS = ("tail", "summary", "show", "export")


def later(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    """The handler `function` of `scrapeshield.cli.<module>`, imported when it runs."""

    def handler(args: argparse.Namespace) -> int:
        run: Callable[[argparse.Namespace], int] = getattr(
            import_module(f"scrapeshield.cli.{module}"), function
        )
        return run(args)

    return handler


def add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", metavar="LOG", help="read a JSON-lines block-log file instead")


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", help="15m, 1h, 2d ago, an epoch time or an ISO date")
    parser.add_argument("--until", help="as --since")
    parser.add_argument("--client", help="only this client key (IP or IPv6 /64)")
    parser.add_argument("--action", help="only this action (block, challenge, ...)")
    parser.add_argument("--rule", help="only rules starting with this")
    parser.add_argument("--category", help="only this crawler category (ai-training, ...)")
    parser.add_argument("--path", help="only paths starting with this")
    parser.add_argument("--agent", help="only this catalogue agent (e.g. GPTBot)")
    parser.add_argument("--event", help="only this event kind (decision, served, ...)")


def _demo(sub: Any) -> None:
    parser = sub.add_parser("demo", help="serve the demo art gallery protected by scrapeshield")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    add_settings_options(parser)
    parser.set_defaults(handler=later("demo", "run"))


def _explain(sub: Any) -> None:
    parser = sub.add_parser("explain", help="why would this request be allowed or blocked")
    parser.add_argument("--ua", default=None, help="User-Agent (omit for none)")
    parser.add_argument(
        "--ip", default=None, help=f"client address (default {DEFAULT_IP}, in no documented range)"
    )
    parser.add_argument("--path", default=None, help="path and query, as sent (default /)")
    parser.add_argument("--method", default=None, help="default GET")
    parser.add_argument("--scheme", default=None, choices=["http", "https"], help="default https")
    parser.add_argument("--host", default=None, help=f"Host header (default {DEFAULT_HOST})")
    parser.add_argument(
        "--header", action="append", default=[], metavar="'Name: value'", help="repeatable"
    )
    add_input_options(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_settings_options(parser)
    parser.set_defaults(handler=later("explain", "run"))


def _log(sub: Any) -> None:
    parser = sub.add_parser("log", help="tail, summarise, search or export the block log")
    parser.add_argument("view", choices=VIEWS, nargs="?", default="tail")
    parser.add_argument("target", nargs="?", metavar="CLIENT", help="show: the client key")
    parser.add_argument("--request", metavar="ID", help="show: the request id a page showed")
    parser.add_argument("-n", "--limit", type=int, default=50, help="tail/show: how many events")
    parser.add_argument("-f", "--follow", action="store_true", help="tail: follow new events")
    parser.add_argument("--top", type=int, default=10, help="summary: how many of each")
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="export")
    parser.add_argument("--out", metavar="FILE", help="export: write here (default: stdout)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_filter_options(parser)
    add_source_options(parser)
    add_settings_options(parser)
    parser.set_defaults(handler=later("log", "run"))


def _bans(sub: Any) -> None:
    ban = sub.add_parser("ban", help="ban a client address (or IPv6 network) for a duration")
    ban.add_argument("target", metavar="IP|CIDR", help=TARGET_HELP)
    ban.add_argument("--for", dest="duration", type=parse_duration, default=None, help="e.g. 1h")
    ban.add_argument("--reason", default="")
    add_settings_options(ban)
    ban.set_defaults(handler=later("bans", "run_ban"))

    unban = sub.add_parser(
        "unban", help="lift a ban and a trap flag (someone says they are blocked)"
    )
    unban.add_argument("target", metavar="IP|CIDR", help=TARGET_HELP)
    unban.add_argument(
        "--forget",
        action="store_true",
        help="also forget the escalation history (strikes and ban level)",
    )
    add_settings_options(unban)
    unban.set_defaults(handler=later("bans", "run_unban"))

    listing = sub.add_parser("bans", help="list active bans and trap flags")
    listing.add_argument("--json", action="store_true")
    listing.add_argument(
        "--scan",
        action="store_true",
        help="find bans and trap flags by scanning the keyspace (slow on a large store) and "
        "index them: once, for those written before this version kept their indexes",
    )
    add_settings_options(listing)
    listing.set_defaults(handler=later("bans", "run_list"))


def _robots(sub: Any) -> None:
    parser = sub.add_parser("robots", help="print the generated robots.txt")
    add_settings_options(parser)
    parser.set_defaults(handler=later("robots", "run"))


def _directives(sub: Any) -> None:
    parser = sub.add_parser("directives", help="the opt-out headers a path would get")
    parser.add_argument("path")
    parser.add_argument(
        "--content-type", default=None, help="response type (default: guessed from the path)"
    )
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_settings_options(parser)
    parser.set_defaults(handler=later("directives", "run"))


def _update_data(sub: Any) -> None:
    parser = sub.add_parser(
        "update-data",
        help="refresh the bot catalogue, crawler and cloud-provider IP ranges from their sources",
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="where to write (default: settings fingerprint.data_dir)"
    )
    parser.add_argument(
        "--mirror",
        metavar="URL",
        help="fetch <URL>/robots.json, <URL>/ip-ranges/<name>.json and "
        "<URL>/datacenter/<name>.json|csv instead of the public URLs",
    )
    add_settings_options(parser)
    parser.set_defaults(handler=later("update_data", "run"))


def _evidence(sub: Any) -> None:
    parser = sub.add_parser(
        "evidence", help="what an agent, a client or a work was served or refused (signed)"
    )
    parser.add_argument("verify", nargs="?", choices=["verify"], help="verify a report's signature")
    parser.add_argument("report", nargs="?", metavar="REPORT", help="verify: the report file")
    parser.add_argument("--agent", help="a catalogue agent (e.g. GPTBot), or text in its UA")
    parser.add_argument("--client", help="a client key (IP or IPv6 /64)")
    parser.add_argument("--path", help="a work: a path prefix (e.g. /art/alice/)")
    parser.add_argument("--since", help="15m, 1h, 2d ago, an epoch time or an ISO date")
    parser.add_argument("--until", help="as --since")
    parser.add_argument("-n", "--limit", type=int, default=None, help="newest N events")
    parser.add_argument("--out", metavar="FILE", help="write a signed JSON report here")
    parser.add_argument("--json", action="store_true", help="print the (unsigned) report")
    add_source_options(parser)
    add_settings_options(parser)
    parser.set_defaults(handler=later("evidence", "run"))


COMMANDS = (_demo, _explain, _log, _bans, _robots, _directives, _update_data, _evidence)


class _Version(argparse.Action):
    """`--version`, as argparse's, with the version looked up only when asked: importing
    importlib.metadata costs every command ~20 ms."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("scrapeshield")
        except PackageNotFoundError:  # run from a source tree that was never installed
            installed = "unknown"
        print(f"scrapeshield {installed}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scrapeshield", description="Stop scrapers from harvesting your artwork."
    )
    parser.add_argument("--version", action=_Version, help="show program's version number and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser
