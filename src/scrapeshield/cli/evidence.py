"""`scrapeshield evidence --agent NAME | --client KEY | --path PREFIX [--since ..] [--out FILE]`:
which requests were served or refused, when, by which rule, under which directives; with
`--out`, a signed JSON report. `scrapeshield evidence verify FILE` checks a report's signature.
See docs/operators.md#evidence."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import deque
from pathlib import Path
from typing import Any

from rich.text import Text

from scrapeshield.cli import render
from scrapeshield.cli.common import load_settings
from scrapeshield.cli.sources import event_filter, with_source
from scrapeshield.evidence.report import (
    MAX_EVENTS,
    ReportError,
    build_report,
    sign,
    signing_key,
    verify,
)
from scrapeshield.operators import EventSource
from scrapeshield.settings import Settings
from scrapeshield.store import Store

NO_KEY = (
    "no key to sign with: set evidence.signing_key (SCRAPESHIELD_EVIDENCE__SIGNING_KEY) or "
    "challenge.secret_keys, as the site does"
)


def fail(message: str, code: int = 2) -> int:
    return render.fail("evidence", message, code)


def run(args: argparse.Namespace) -> int:
    if args.verify:
        return run_verify(args)
    if not (args.agent or args.client or args.path):
        return fail("give --agent NAME, --client KEY or --path PREFIX (or: verify REPORT)")
    settings = load_settings(args)
    key = signing_key(settings) if args.out else None
    if args.out and key is None:
        return fail(NO_KEY)
    try:
        flt = event_filter(args, settings)
    except ValueError as exc:
        return fail(str(exc))
    query = {
        name: getattr(args, name)
        for name in ("agent", "client", "path", "since", "until")
        if getattr(args, name)
    } | {"since_epoch": flt.since, "until_epoch": flt.until}

    async def collect(source: EventSource, _store: Store | None, s: Settings) -> dict[str, Any]:
        kept: deque[dict[str, Any]] = deque(
            maxlen=max(1, MAX_EVENTS if args.limit is None else args.limit)
        )
        seen = 0
        async for event in source.oldest_first(flt):
            kept.append(event)
            seen += 1
        ids = sorted({str(e["directives"]) for e in kept if e.get("directives")})
        states = await source.states(ids)
        return build_report(
            list(kept), states, site=s.site_name, query=query, truncated=seen > len(kept)
        )

    report = asyncio.run(with_source(args, collect, settings=settings))
    if args.out:
        assert key is not None
        Path(args.out).write_text(json.dumps(sign(report, key), indent=2) + "\n", "utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    if args.out:
        events = len(report["events"])
        print(f"wrote a signed report of {events} events to {args.out}")
    return 0


def _directives(state: dict[str, Any] | None) -> str:
    if state is None:
        return "?"
    headers = state.get("headers") or {}
    robots = state.get("robots_txt") or {}
    version = str(robots.get("etag") or robots.get("mode")).strip('"')[:12]
    parts = [f"robots.txt {version}"]
    parts += [f"{name}: {value}" for name, value in headers.items()]
    prefs = state.get("preferences") or {}
    if prefs.get("prefix"):
        parts.append(f"(paths {prefs['prefix']}*)")
    if prefs.get("hook"):
        parts.append("(a preference_hook may override per request)")
    return "; ".join(parts)


def _print(report: dict[str, Any]) -> None:
    out = render.console()
    events = report["events"]
    counts = ", ".join(f"{n} {k}" for k, n in report["counts"].items()) or "none"
    out.print(Text(f"{len(events)} requests: {counts}", style="bold"))
    if report["truncated"]:
        out.print(Text("(older events left out: raise -n)", style="dim"))
    states = report["directive_states"]
    grid = render.table(
        "", ["time (UTC)", "outcome", "rule", "client", "request", "agent", "directives"],
        terminal=out.is_terminal,
    )  # fmt: skip
    for e in events:
        style = "red" if e["outcome"] == "refused" else "green"
        grid.add_row(
            render.when(e.get("time")),
            Text(e["outcome"], style=style),
            render.safe(e.get("rule"), 40),
            render.safe(e.get("client_key"), 43),
            f"{render.safe(e.get('method'))} {render.safe(e.get('path'), 60)}",
            render.safe(e.get("agent") or e.get("user_agent"), 30),
            e.get("directives") or "-",
        )
    out.print(grid)
    if states:
        out.print(Text("directive states in force:", style="bold"))
        for sid, state in states.items():
            out.print(Text(f"  {sid}  {render.safe(_directives(state), 300)}"))


def run_verify(args: argparse.Namespace) -> int:
    if not args.report:
        return fail("give the report file: scrapeshield evidence verify report.json")
    key = signing_key(load_settings(args))
    if key is None:
        return fail(NO_KEY)
    try:
        document = json.loads(Path(args.report).read_text("utf-8"))
    except OSError as exc:
        return fail(f"cannot read {args.report}: {exc.strerror}", 1)
    except ValueError:
        return fail(f"{args.report} is not JSON", 1)
    try:
        report = verify(document, key)
    except ReportError as exc:
        return fail(f"INVALID: {exc}", 1)
    count = len(report.get("events") or [])
    print(
        f"valid: signed with key {document['signature']['key_id']}, {count} events, "
        f"generated {report.get('generated')} for {report.get('site')!r}"
    )
    return 0
