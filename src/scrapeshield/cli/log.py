"""`scrapeshield log tail|summary|show|export`: the block log, from the store's event stream or
a JSON-lines log file (`--file`). Filters find every match in retention (the stream is paged
back, never only its newest events); `tail -f` follows live. The reading is
`scrapeshield.operators`, shared with the dashboard."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.text import Text

from scrapeshield.cli import render
from scrapeshield.cli.common import load_settings, settings_named
from scrapeshield.cli.sources import client_key, event_filter, read_events, with_source
from scrapeshield.operators import (
    EventFilter,
    EventSource,
    client_report,
    export,
    newest,
    summarise,
)

if TYPE_CHECKING:
    from scrapeshield.settings import Settings
    from scrapeshield.store import Store


def fail(message: str, code: int = 2) -> int:
    return render.fail("log", message, code)


def run(args: argparse.Namespace) -> int:
    view = "show" if args.request is not None else args.view
    # a --file alone is read without the settings (their defaults change nothing it prints)
    uses_settings = view == "show" or args.client or not args.file or settings_named(args)
    settings = load_settings(args) if uses_settings else None
    try:
        flt = event_filter(args, settings)
    except ValueError as exc:
        return fail(str(exc))
    if view == "show":
        return show(args, flt, settings)
    if view == "summary":
        return asyncio.run(
            read_events(args, lambda src: _summary(args, src, flt), settings=settings)
        )
    if view == "export":
        return _export(args, flt, settings)
    return asyncio.run(read_events(args, lambda src: _tail(args, src, flt), settings=settings))


def _print_event(out: Console, event: dict[str, Any], as_json: bool) -> None:
    if as_json:
        out.file.write(json.dumps(event, separators=(",", ":")) + "\n")
    else:
        out.print(render.event_line(event))
    out.file.flush()


async def _tail(args: argparse.Namespace, source: EventSource, flt: EventFilter) -> int:
    out = render.console()
    cursor = await source.cursor() if args.follow else None
    for event in await newest(source, flt, max(args.limit, 0), cursor):
        _print_event(out, event, args.json)
    if args.follow:
        async for event in source.follow(flt, interval=1.0, after=cursor):
            _print_event(out, event, args.json)
    return 0


async def _summary(args: argparse.Namespace, source: EventSource, flt: EventFilter) -> int:
    summary = await summarise(source.any_order(flt), top=max(args.top, 1))
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
        return 0
    out = render.console()
    terminal = out.is_terminal
    span = (
        f" from {render.when(summary.first)} to {render.when(summary.last)} UTC"
        if summary.first is not None
        else ""
    )
    out.print(Text(f"{summary.total} events{span} ({source.description})", style="bold"))
    if summary.total:
        share = 100 * summary.refused / summary.total
        line = Text(f"refused {summary.refused} ({share:.1f}%)", style="red")
        line.append(f"  let through {summary.let_through} ({100 - share:.1f}%)", style="green")
        line.append("  (monitor-mode decisions and served samples are let through)", style="dim")
        out.print(line)
    for title, counts in (
        ("by event", summary.by_event),
        ("by action", summary.by_action),
        ("by rule", summary.by_rule),
        ("by category", summary.by_category),
        ("top clients", summary.by_client),
        ("top user agents", summary.by_user_agent),
    ):
        out.print()
        out.print(render.counts_table(title, counts, summary.total, terminal=terminal))
    if summary.per_hour:
        out.print()
        out.print(Text("per hour (UTC)", style="bold"))
        for line in render.histogram(summary.per_hour):
            out.print(line)
    return 0


def _export(args: argparse.Namespace, flt: EventFilter, settings: Settings | None) -> int:
    async def write(source: EventSource, out: TextIO) -> int:
        return await export(source.oldest_first(flt), out, args.format)

    if not args.out or args.out == "-":
        asyncio.run(read_events(args, lambda src: write(src, sys.stdout), settings=settings))
        return 0
    try:
        handle = open(args.out, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror}", 1)
    with handle:
        count = asyncio.run(read_events(args, lambda src: write(src, handle), settings=settings))
    print(f"wrote {count} events to {args.out} ({args.format})", file=sys.stderr)
    return 0


def show(args: argparse.Namespace, flt: EventFilter, settings: Settings | None) -> int:
    if args.request is not None:
        wanted = args.request.strip()
        if not wanted:
            return fail("give --request ID (the id on the block page)")
        return asyncio.run(
            with_source(args, lambda src, _s, t: _request(args, src, wanted, t), settings=settings)
        )
    if not args.target:
        return fail("give a CLIENT (show 198.51.100.4) or --request ID (the id on the block page)")
    return asyncio.run(
        with_source(
            args, lambda src, store, s: _client(args, src, store, s, flt), settings=settings
        )
    )


async def _request(
    args: argparse.Namespace, source: EventSource, wanted: str, settings: Settings
) -> int:
    found = [e async for e in source.newest_first(EventFilter(request_id=wanted))]
    found.reverse()
    if not found:
        return fail(
            f"no event with request id {wanted!r} in {source.description} "
            f"(store prefix {settings.store_prefix!r}). It may be older than the stream keeps "
            "(event_stream_maxlen), from another store, or from a request that was allowed.",
            1,
        )
    out = render.console()
    for event in found:
        if args.json:
            _print_event(out, event, True)
            continue
        out.print(Text(f"{render.when(event.get('time'))}  request {render.safe(wanted)}"))
        _describe(out, event)
        out.print(f"  to lift a ban or trap flag: scrapeshield unban {event.get('client_key')}")
    return 0


def _describe(out: Console, event: dict[str, Any]) -> None:
    rows = [
        ("event", render.safe(event.get("event", "decision"))),
        ("client", f"{event.get('client_key')} (ip {event.get('client_ip')})"),
        ("request", f"{render.safe(event.get('method'))} {render.safe(event.get('path'))}"),
        ("ua", repr(render.safe(event.get("user_agent", "")))),
    ]
    for name, value in rows:
        out.print(Text(f"  {name:<9}{value}"))
    line = Text("  decision ")
    line.append_text(render.action_text(event))
    line.append(f"by {render.safe(event.get('rule'))}  score={event.get('score')}")
    if not event.get("enforced", True):
        line.append("  (monitor: not enforced)", style="dim")
    out.print(line)
    for reason in event.get("reasons") or []:
        detail = render.safe(reason.get("detail", ""), 160)
        out.print(Text(f"    {render.safe(reason.get('name'))} ({reason.get('weight')}): {detail}"))


async def _client(
    args: argparse.Namespace,
    source: EventSource,
    store: Store | None,
    settings: Settings,
    flt: EventFilter,
) -> int:
    key = client_key(args.target, settings)
    report = await client_report(
        source, key, store=store, recent=max(args.limit, 1), since=flt.since
    )
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0
    out = render.console()
    out.print(
        Text(
            f"client {render.safe(key)}: {report.total} events in {source.description}",
            style="bold",
        )
    )
    if store is not None:
        if report.ban:
            text = f"  banned: {render.ago(report.ban['remaining'])} left ({report.ban['rule']}"
            out.print(
                Text(text + f"; {render.safe(report.ban['reason']) or 'no reason'})", style="red")
            )
        else:
            out.print(Text("  not banned", style="green"))
        if report.trap:
            left = report.trap["remaining"]
            when = render.ago(left) + " left" if left is not None else "no expiry"
            out.print(
                Text(f"  trap flag: hit {render.safe(report.trap['path'])} ({when})", style="red")
            )
        out.print(f"  escalation: {report.strikes} strikes, ban level {report.ban_level}")
    counts = ", ".join(f"{n} {a}" for a, n in sorted(report.counts.items(), key=lambda i: -i[1]))
    out.print(f"  events by action: {counts or 'none'}")
    if report.last_refusal is not None:
        out.print(Text("last refused:", style="bold"))
        _describe(out, report.last_refusal)
    if report.events:
        out.print(Text(f"latest {len(report.events)} events:", style="bold"))
        for event in report.events:
            out.print(render.event_line(event))
    if report.ban or report.trap:
        out.print(f"to lift the ban and trap flag: scrapeshield unban {key}")
    return 0
