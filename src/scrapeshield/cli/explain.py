"""`scrapeshield explain`: the decision for one synthetic request, with every signal."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
from typing import Any

from scrapeshield.cli.common import load_settings
from scrapeshield.cli.explain_input import (
    InputError,
    RequestSpec,
    from_curl,
    from_har,
    load_app,
)
from scrapeshield.cli.parsers import DEFAULT_HOST, DEFAULT_IP
from scrapeshield.deterrents.decoy import extension_for, placeholder
from scrapeshield.errors import ConfigurationError
from scrapeshield.facts import Facts
from scrapeshield.route_index import find_routes
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action, Decision
from scrapeshield.testing import browser_family, browser_headers

_BROWSER_HINTS = ("accept", "accept-language", "sec-fetch-mode")


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise InputError(f"--header {text!r} is not 'Name: value'")
    return name.strip(), value.strip()


def check_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise InputError(
            f"--ip {text!r} is not an IP address (e.g. 198.51.100.7 or 2001:db8::7)"
        ) from None


def request_spec(args: argparse.Namespace) -> RequestSpec:
    """The request to explain: a recorded one (curl, HAR) or the options', options on top."""
    if args.from_curl and args.from_har:
        raise InputError("give --from-curl or --from-har, not both")
    if args.from_curl:
        spec = from_curl(args.from_curl)
    elif args.from_har:
        spec = from_har(args.from_har, args.entry)
    else:
        spec = RequestSpec()
    if args.path is not None:
        if not args.path.startswith("/"):
            raise InputError(f"--path {args.path!r} must start with '/'")
        spec.path = args.path
    spec.method = (args.method or spec.method).upper()
    spec.scheme = args.scheme or spec.scheme
    spec.host = args.host or spec.host
    headers = list(spec.headers)
    named = {name.lower() for name, _ in headers}
    if args.ua is not None and "user-agent" not in named:
        headers.insert(0, ("User-Agent", args.ua))
    for name, value in (parse_header(h) for h in args.header):
        headers = [(n, v) for n, v in headers if n.lower() != name.lower()] + [(name, value)]
    if args.browser_headers:
        agent = next((v for n, v in headers if n.lower() == "user-agent"), "")
        given = {n.lower(): (n, v) for n, v in headers}
        if browser_family(agent) is None:
            raise InputError("--browser-headers: the --ua is not a Chromium, Firefox or Safari one")
        browser = browser_headers(agent, secure=spec.scheme == "https")
        ordered = [given.pop(n.lower(), (n, v)) for n, v in browser]
        headers = ordered + list(given.values())
    spec.headers = headers
    return spec


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    try:
        spec = request_spec(args)
        ip = check_ip(args.ip if args.ip is not None else DEFAULT_IP)
        app = load_app(args.app) if args.app else None
    except InputError as exc:
        print(f"scrapeshield explain: {exc}", file=sys.stderr)
        return 2
    result = asyncio.run(_explain(settings, spec, ip, app))
    result["default_ip"] = args.ip is None
    result["hint"] = browser_hint(result, spec, args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    query = f"?{result['query']}" if result["query"] else ""
    where = f"{spec.scheme}://{result['host']}"
    print(f"request   {result['method']} {result['path']}{query}  from {result['client_key']}")
    print(f"url       {where}{result['path']}{query}  (secure context: {result['secure_context']})")
    source = f"  (the default --ip {DEFAULT_IP}: pass --ip for another)" if args.ip is None else ""
    print(f"client    {result['client_ip']}{source}")
    print(f"ua        {result['user_agent'] or '(none)'}")
    parsed = result["parsed_user_agent"]
    if parsed:
        print(
            f"parsed    {parsed['browser']} on {parsed['os']}, {parsed['device']} "
            f"(user-agents is_bot={parsed['is_bot']})"
        )
    print(f"headers   {', '.join(result['header_names']) or '(none)'}")
    print(f"group     {result['route_group']}")
    if result["route"]:
        print(f"route     {result['route']}: {result['route_marks']}")
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
    if result["hint"]:
        print(f"hint      {result['hint']}")
    return 0


def browser_hint(result: dict[str, Any], spec: RequestSpec, args: argparse.Namespace) -> str | None:
    """A browser's user agent without a browser's headers is judged as what it looks like: a
    program borrowing a browser's name. Say so, rather than let a block look like a bug."""
    agent = result["user_agent"]
    if args.browser_headers or not agent or browser_family(agent) is None:
        return None
    names = {name.lower() for name, _ in spec.headers}
    if all(name in names for name in _BROWSER_HINTS):
        return None
    return (
        "this user agent is a browser's, but a browser's other headers (Accept, "
        "Accept-Language, Sec-Fetch-*...) were not given, so it is judged as a program using a "
        "browser's name. Add --browser-headers, or explain a recorded request with --from-curl "
        "(a browser's 'Copy as cURL') or --from-har."
    )


async def _explain(settings: Any, spec: RequestSpec, ip: str, app: Any) -> Any:
    shield = Shield(settings)
    try:
        if app is not None:
            routes = find_routes(app)
            if routes is None:
                raise ConfigurationError(["--app: the app has no Starlette routes to read"])
            shield.bind_routes(routes)
        scope = synthetic_scope(
            method=spec.method,
            path=spec.path,
            ip=ip,
            headers=spec.headers,
            scheme=spec.scheme,
            host=spec.host or DEFAULT_HOST,
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
            "host": facts.host,
            "query": facts.query,
            "scheme": facts.scheme,
            "secure_context": facts.secure_context,
            "header_names": list(facts.headers),
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
