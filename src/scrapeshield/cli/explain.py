"""`scrapeshield explain`: the decision for one synthetic request, with every signal."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from scrapeshield.cli.common import add_settings_options, load_settings
from scrapeshield.shield import Shield, synthetic_scope


def register(sub: Any) -> None:
    parser = sub.add_parser("explain", help="why would this request be allowed or blocked")
    parser.add_argument("--ua", default=None, help="User-Agent (omit for none)")
    parser.add_argument("--ip", default="203.0.113.7", help="client address")
    parser.add_argument("--path", default="/")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--scheme", default="https", choices=["http", "https"])
    parser.add_argument(
        "--header", action="append", default=[], metavar="'Name: value'", help="repeatable"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_settings_options(parser)
    parser.set_defaults(handler=run)


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise SystemExit(f"scrapeshield explain: --header {text!r} is not 'Name: value'")
    return name.strip(), value.strip()


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    headers = [parse_header(h) for h in args.header]
    result = asyncio.run(_explain(settings, args, headers))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"request   {result['method']} {result['path']}  from {result['client_key']}")
    print(f"ua        {result['user_agent'] or '(none)'}")
    print(f"group     {result['route_group']}")
    if result["signals"]:
        print("signals")
        for signal in result["signals"]:
            detail = f"  {signal['detail']}" if signal.get("detail") else ""
            print(f"  {signal['weight']:>+8.1f}  {signal['name']}{detail}")
    else:
        print("signals   (none)")
    print(f"score     {result['score']}")
    print(f"decision  {result['action']}  (rule {result['rule']})")
    return 0


async def _explain(settings: Any, args: argparse.Namespace, headers: list[tuple[str, str]]) -> Any:
    shield = Shield(settings)
    try:
        scope = synthetic_scope(
            method=args.method,
            path=args.path,
            ip=args.ip,
            user_agent=args.ua,
            headers=headers,
            scheme=args.scheme,
        )
        facts = shield.facts(scope)
        endpoint = shield.endpoint_for(facts)
        decision = await shield.decide(facts, shield.context(dry_run=True))
        return {
            **facts.as_dict(),
            "directive_endpoint": endpoint is not None,
            "action": decision.action.value,
            "rule": decision.rule,
            "score": decision.score,
            "enforced": decision.enforced,
            "signals": [s.as_dict() for s in decision.reasons],
        }
    finally:
        await shield.aclose()
