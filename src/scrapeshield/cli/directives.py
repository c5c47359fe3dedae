"""`scrapeshield directives PATH`: the opt-out headers a response for PATH would carry."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import mimetypes
from typing import Any

from scrapeshield.cli.common import load_settings
from scrapeshield.directives.headers import DirectiveHeaders
from scrapeshield.directives.html import meta_tags
from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.facts import FactsBuilder
from scrapeshield.settings import Settings
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action, Decision


def guess_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "text/html; charset=utf-8"


async def describe(settings: Settings, path: str, content_type: str, status: int) -> dict[str, Any]:
    section = settings.directives
    facts = FactsBuilder(settings).build(synthetic_scope(path=path))
    preferences = PreferenceResolver(section)
    prefs = await preferences.for_request(facts)
    headers: list[tuple[bytes, bytes]] = []
    if section.headers:
        found = DirectiveHeaders(section, preferences).headers_for(
            facts,
            Decision(Action.ALLOW, "cli"),
            status,
            [(b"content-type", content_type.encode("latin-1"))],
        )
        headers = await found if inspect.isawaitable(found) else found
    html = content_type.startswith("text/html")
    return {
        "path": facts.path,
        "content_type": content_type,
        "status": status,
        "preferences": {"train_ai": prefs.train_ai, "search": prefs.search},
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers],
        "meta": str(meta_tags(prefs, tdm_policy_url=section.tdm_policy_url)) if html else None,
        "injected": bool(html and section.inject_html and 200 <= status < 300),
    }


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    content_type = args.content_type or guess_type(args.path)
    result = asyncio.run(describe(settings, args.path, content_type, args.status))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    prefs = result["preferences"]
    print(f"path         {result['path']}  ({content_type}, status {args.status})")
    print(f"preferences  train-ai={prefs['train_ai']}  search={prefs['search']}")
    if result["headers"]:
        for name, value in result["headers"]:
            print(f"{name}: {value}")
    else:
        print("(no directive headers for this response)")
    if result["meta"]:
        how = "injected into <head>" if result["injected"] else "for templates: meta_tags()"
        print(f"meta ({how}): {result['meta']}")
    return 0
