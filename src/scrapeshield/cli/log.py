"""`scrapeshield log tail|summary|show`: read the block log back from the store's event stream.

`log show --request ID` finds the events of the request whose id a block or challenge page
showed ("Reference: ..."), searching the whole retained stream."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from scrapeshield.blocklog import parse_since, read_events, summarise
from scrapeshield.cli.common import add_settings_options, load_settings
from scrapeshield.store import open_store
from scrapeshield.support import Support


def register(sub: Any) -> None:
    parser = sub.add_parser("log", help="tail or summarise the block log")
    parser.add_argument("view", choices=["tail", "summary", "show"], nargs="?", default="tail")
    parser.add_argument(
        "--request", metavar="ID", default=None, help="show: the request id a block page showed"
    )
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
    if args.view == "show" or args.request is not None:
        return show(args)
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


def show(args: argparse.Namespace) -> int:
    """The events of one request id; 1 (and a message on stderr) when none is kept."""
    if not args.request or not args.request.strip():
        print(
            "scrapeshield log show: give --request ID (the id on the block page)", file=sys.stderr
        )
        return 2
    settings = load_settings(args)

    async def find() -> list[dict[str, Any]]:
        store = open_store(settings)
        try:
            return await Support(store, settings).find_event(args.request)
        finally:
            await store.aclose()

    events = asyncio.run(find())
    if not events:
        print(
            f"scrapeshield log show: no event with request id {args.request.strip()!r} in the "
            f"store's event stream ({settings.store_url.split('://')[0]}://, prefix "
            f"{settings.store_prefix!r}). It may be older than the stream keeps "
            "(event_stream_maxlen), from another store, or from a request that was allowed.",
            file=sys.stderr,
        )
        return 1
    for event in events:
        if args.json:
            print(json.dumps(event, separators=(",", ":")))
            continue
        print(
            f"{event.get('ts')}  request {event.get('request_id')}  {event.get('event')}\n"
            f"  client   {event.get('client_key')} (ip {event.get('client_ip')})\n"
            f"  request  {event.get('method')} {event.get('path')}  "
            f"group={event.get('route_group')}\n"
            f"  ua       {event.get('user_agent', '')!r}\n"
            f"  decision {event.get('action')} by {event.get('rule')}  score={event.get('score')}"
            f"{'' if event.get('enforced', True) else ' (monitor: not enforced)'}"
        )
        for reason in event.get("reasons") or []:
            print(f"    {reason.get('name')} ({reason.get('weight')}): {reason.get('detail')}")
        print(f"  to lift a ban or trap flag: scrapeshield unban {event.get('client_key')}")
    return 0
