"""`scrapeshield log tail|summary`: read the block log back from the store's event stream."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from scrapeshield.blocklog import parse_since, read_events, summarise
from scrapeshield.cli.common import add_settings_options, load_settings
from scrapeshield.store import open_store


def register(sub: Any) -> None:
    parser = sub.add_parser("log", help="tail or summarise the block log")
    parser.add_argument("view", choices=["tail", "summary"], nargs="?", default="tail")
    parser.add_argument("--since", default=None, help="e.g. 15m, 1h, 2d (default: everything)")
    parser.add_argument("-n", "--limit", type=int, default=50, help="tail: how many events")
    parser.add_argument("--action", default=None, help="only this action")
    parser.add_argument("--rule", default=None, help="only rules starting with this")
    parser.add_argument("--client", default=None, help="only this client key")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_settings_options(parser)
    parser.set_defaults(handler=run)


def _keep(event: dict[str, Any], args: argparse.Namespace) -> bool:
    if args.action and event.get("action") != args.action:
        return False
    if args.rule and not str(event.get("rule", "")).startswith(args.rule):
        return False
    return not (args.client and event.get("client_key") != args.client)


async def _read(args: argparse.Namespace) -> list[dict[str, Any]]:
    settings = load_settings(args)
    store = open_store(settings)
    try:
        since = parse_since(args.since) if args.since else None
        limit = args.limit if args.view == "tail" else settings.event_stream_maxlen
        events = await read_events(store, since=since, limit=max(limit, 1) * 4)
    finally:
        await store.aclose()
    kept = [e for e in events if _keep(e, args)]
    return kept[-args.limit :] if args.view == "tail" else kept


def run(args: argparse.Namespace) -> int:
    try:
        since_ok = args.since is None or parse_since(args.since) is not None
    except ValueError:
        since_ok = False
    if not since_ok:
        print(f"scrapeshield log: --since {args.since!r} is not like 15m, 1h, 2d")
        return 2
    events = asyncio.run(_read(args))
    if args.view == "summary":
        summary = summarise(events)
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(f"{summary['total']} events")
            for title in ("by_event", "by_action", "by_rule", "by_client"):
                print(title.replace("_", " "))
                for name, count in summary[title].items():
                    print(f"  {count:>8}  {name}")
        return 0
    for event in events:
        if args.json:
            print(json.dumps(event, separators=(",", ":")))
        else:
            enforced = "" if event.get("enforced", True) else " (monitor)"
            print(
                f"{event.get('ts')}  {event.get('action', '?'):<9} {event.get('rule', '?'):<24} "
                f"{event.get('client_key')}  {event.get('method')} {event.get('path')}  "
                f"score={event.get('score')}{enforced}  ua={event.get('user_agent', '')[:60]!r}"
            )
    return 0
