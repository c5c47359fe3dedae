"""`scrapeshield ban IP --for 1h --reason TEXT`, `unban IP`, and `bans` to list them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from scrapeshield.cli.common import add_settings_options, load_settings, parse_duration
from scrapeshield.shield import Shield


def register(sub: Any) -> None:
    ban = sub.add_parser("ban", help="ban a client address (or IPv6 network) for a duration")
    ban.add_argument("ip")
    ban.add_argument("--for", dest="duration", type=parse_duration, default=None, help="e.g. 1h")
    ban.add_argument("--reason", default="")
    add_settings_options(ban)
    ban.set_defaults(handler=run_ban)

    unban = sub.add_parser("unban", help="lift a ban")
    unban.add_argument("ip")
    add_settings_options(unban)
    unban.set_defaults(handler=run_unban)

    listing = sub.add_parser("bans", help="list active bans")
    listing.add_argument("--json", action="store_true")
    add_settings_options(listing)
    listing.set_defaults(handler=run_list)


MEMORY_WARNING = (
    "scrapeshield: warning: the store is memory://, so this ban lives only in this command's "
    "process and is gone when it exits; no running site will see it. Use --store redis://... "
    "(or SCRAPESHIELD_STORE_URL / --config) naming the store your site uses."
)


def _with_shield(args: argparse.Namespace, action: Any) -> Any:
    async def go() -> Any:
        settings = load_settings(args)
        if settings.store_url.startswith("memory://"):
            print(MEMORY_WARNING, file=sys.stderr)
        shield = Shield(settings)
        try:
            return await action(shield)
        finally:
            await shield.aclose()

    return asyncio.run(go())


def run_ban(args: argparse.Namespace) -> int:
    ban = _with_shield(args, lambda s: s.ban(args.ip, args.duration, reason=args.reason))
    print(f"banned {ban.client_key} for {ban.remaining:.0f}s ({ban.reason or 'no reason given'})")
    return 0


def run_unban(args: argparse.Namespace) -> int:
    lifted = _with_shield(args, lambda s: s.unban(args.ip))
    print(f"unbanned {args.ip}" if lifted else f"{args.ip} was not banned")
    return 0 if lifted else 1


def run_list(args: argparse.Namespace) -> int:
    bans = _with_shield(args, lambda s: s.bans.active())
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "client_key": b.client_key,
                        "until": b.until,
                        "reason": b.reason,
                        "rule": b.rule,
                    }
                    for b in bans
                ],
                indent=2,
            )
        )
    for ban in [] if args.json else bans:
        print(f"{ban.client_key:<40} {ban.remaining:>8.0f}s  {ban.rule}  {ban.reason}")
    return 0
