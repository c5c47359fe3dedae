"""`scrapeshield ban IP|CIDR --for 1h --reason TEXT`, `unban IP|CIDR [--forget]`, and `bans` to
list bans and trap flags (`--scan`: once, for bans and flags older than their indexes). The
store work is `scrapeshield.support` and `scrapeshield.bans`, usable from an app too."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from scrapeshield.bans import LIST_LIMIT, Ban, BanList
from scrapeshield.cli.common import load_settings
from scrapeshield.store import open_store
from scrapeshield.support import Support, TargetError, client_key_of

T = TypeVar("T")


MEMORY_WARNING = (
    "scrapeshield: warning: the store is memory://, so what this command reads or changes lives "
    "only in this command's process and is gone when it exits; no running site sees it. Use "
    "--store redis://... (or SCRAPESHIELD_STORE_URL / --config) naming the store your site uses."
)


def _with_support(args: argparse.Namespace, action: Callable[[Support], Awaitable[T]]) -> T:
    """Run `action` with a Support over the configured store, closed afterwards."""
    settings = load_settings(args)
    if settings.store_url.startswith("memory://"):
        print(MEMORY_WARNING, file=sys.stderr)

    async def go() -> T:
        store = open_store(settings)
        try:
            return await action(Support(store, settings))
        finally:
            await store.aclose()

    return asyncio.run(go())


def _client_key(args: argparse.Namespace, command: str) -> str | None:
    """The validated client key (before any store is opened), or None after saying on stderr
    what is accepted."""
    try:
        return client_key_of(args.target, load_settings(args))
    except TargetError as exc:
        print(f"scrapeshield {command}: {exc}", file=sys.stderr)
        return None


def run_ban(args: argparse.Namespace) -> int:
    key = _client_key(args, "ban")
    if key is None:
        return 2

    async def write(support: Support) -> Ban:
        seconds = args.duration or support.settings.ban_default_duration
        return await BanList(support.store).ban(key, seconds, reason=args.reason)

    ban = _with_support(args, write)
    print(f"banned {ban.client_key} for {ban.remaining:.0f}s ({ban.reason or 'no reason given'})")
    return 0


def run_unban(args: argparse.Namespace) -> int:
    key = _client_key(args, "unban")
    if key is None:
        return 2
    lifted = _with_support(args, lambda s: s.lift(key, forget=args.forget))
    done = [
        text
        for text, flag in (
            ("ban lifted", lifted.ban),
            ("trap flag cleared", lifted.trap),
            ("escalation history forgotten", lifted.escalation),
        )
        if flag
    ]
    who = args.target.strip() if key == args.target.strip() else f"{args.target.strip()} ({key})"
    if lifted.ban:
        print(f"unbanned {who}: {', '.join(done)}")
    elif done:
        print(f"{who} was not banned: {', '.join(done)}")
    else:
        print(f"{who} was not banned, nor flagged by a trap")
    return 0 if lifted else 1


def run_list(args: argparse.Namespace) -> int:
    async def both(support: Support) -> tuple[Any, Any, int, int]:
        listing = BanList(support.store)
        if args.scan:
            bans, traps = await listing.scan(), await support.scan_trap_flags()
        else:
            bans, traps = await listing.active(), await support.trap_flags()
        total = await listing.count() if len(bans) >= LIST_LIMIT else len(bans)
        flagged = await support.trap_count() if len(traps) >= LIST_LIMIT else len(traps)
        return bans, traps, total, flagged

    bans, traps, total, flagged = _with_support(args, both)
    if args.scan:
        print(
            f"scanned the keyspace: {len(bans)} bans and {len(traps)} trap flags found and indexed",
            file=sys.stderr,
        )
    if total > len(bans):
        print(f"showing the {len(bans)} bans ending soonest of {total}", file=sys.stderr)
    if flagged > len(traps):
        print(f"showing the {len(traps)} trap flags ending soonest of {flagged}", file=sys.stderr)
    rows = [
        {"kind": "ban", "client_key": b.client_key, "until": b.until, "reason": b.reason}
        | {"rule": b.rule, "remaining": round(b.remaining)}
        for b in bans
    ] + [
        {"kind": "trap", "client_key": t.client_key, "until": t.until, "reason": f"hit {t.path}"}
        | {"rule": "trap/flagged", "remaining": round(t.remaining)}
        for t in traps
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no active bans or trap flags")
    for row in rows:
        print(
            f"{row['kind']:<5} {row['client_key']:<40} {row['remaining']:>8}s  "
            f"{row['rule']}  {row['reason']}"
        )
    return 0
