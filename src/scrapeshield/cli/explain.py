"""`scrapeshield explain`: the decision for one synthetic request, with every signal."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from scrapeshield.cli.common import add_settings_options, load_settings
from scrapeshield.deterrents.decoy import extension_for, placeholder
from scrapeshield.facts import Facts
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action, Decision


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
    parsed = result["parsed_user_agent"]
    if parsed:
        print(
            f"parsed    {parsed['browser']} on {parsed['os']}, {parsed['device']} "
            f"(user-agents is_bot={parsed['is_bot']})"
        )
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
    if result.get("response"):
        print(f"response  {result['response']}")
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
        health = facts.path in shield.health_paths  # passed through before anything else
        endpoint = None if health else shield.endpoint_for(facts)
        if health:
            decision = shield.health_decision()
        else:
            decision = await shield.decide(facts, shield.context(dry_run=True))
        return {
            **facts.as_dict(),
            "directive_endpoint": endpoint is not None,
            "health_path": health,
            "action": decision.action.value,
            "rule": decision.rule,
            "score": decision.score,
            "enforced": decision.enforced,
            "signals": [s.as_dict() for s in decision.reasons],
            "parsed_user_agent": describe_user_agent(facts.user_agent),
            "response": describe_deterrent(shield, decision, facts),
        }
    finally:
        await shield.aclose()


def describe_deterrent(shield: Shield, decision: Decision, facts: Facts) -> str | None:
    """What a decoy or tarpit decision would send (docs/actions.md)."""
    if decision.action is Action.DECOY:
        media_type = placeholder(extension_for(facts))[1]
        custom = " from decoy.responder" if shield.settings.decoy.responder else ""
        return f"200 with a decoy image ({media_type}{custom})"
    if decision.action is Action.TARPIT:
        status = 429 if decision.retry_after is not None else 403
        delay = shield.tarpit.delay_for(decision.score)
        cap = shield.settings.tarpit.max_concurrent
        return f"held {delay:.1f} s (at most {cap} at once per process), then {status}"
    return None


def describe_user_agent(user_agent: str) -> dict[str, Any] | None:
    """`user-agents`' reading of the UA, for the person reading the explanation.

    Off the request path on purpose: `user_agents.parse` takes ua-parser's slow legacy path
    (hundreds of µs, milliseconds on long strings), where the detectors use ua-parser 1.x's
    compiled resolver. Here the cost is paid once per command.
    """
    if not user_agent.strip():
        return None
    import user_agents

    ua = user_agents.parse(user_agent[:512])
    if ua.is_mobile:
        device = "mobile"
    elif ua.is_tablet:
        device = "tablet"
    elif ua.is_pc:
        device = "desktop"
    elif ua.is_bot:
        device = "bot"
    else:
        device = "other"
    return {
        "browser": f"{ua.browser.family} {ua.browser.version_string}".strip(),
        "os": f"{ua.os.family} {ua.os.version_string}".strip(),
        "device": device,
        "device_family": ua.device.family,
        "is_bot": bool(ua.is_bot),
    }
