"""Jinja2 templates for the pages: the packaged ones, or an operator's of the same name.

Jinja2 because it is what Starlette's own `Jinja2Templates` uses, so a Starlette or FastAPI site
already writes its pages in it; autoescape is on, so every value (site name, URLs, request id,
translated texts) is escaped unless it is the page machinery scrapeshield marks safe itself.

Lookup order for a name such as `challenge.html`: the operator's `template_dir`, then the
packaged template. The packaged ones are also reachable as `builtin/<name>`, so an override can
`{% extends "builtin/challenge.html" %}` and replace only a block. The packaged pages extend
`base.html`: an operator's `base.html` restyles them all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateSyntaxError,
)
from markupsafe import Markup

from scrapeshield.pages import catalogue

logger = logging.getLogger("scrapeshield")

PAGES = ("block.html", "throttle.html", "unavailable.html", "challenge.html", "failed.html")
"""The page templates an operator may override (plus `base.html` and `_partials`)."""
BUILTIN = "builtin/"


def environment(template_dir: str | None) -> Environment:
    package = PackageLoader("scrapeshield.pages", "templates")
    loaders: list[Any] = [package, PrefixLoader({BUILTIN.rstrip("/"): package})]
    if template_dir is not None:
        loaders.insert(0, FileSystemLoader(template_dir))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,  # a misspelt variable fails the start-up check, not silently
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def sample_context(name: str) -> dict[str, Any]:
    """What each page is rendered with (the values vary by request), for the start-up check
    and docs/pages.md."""
    texts = catalogue.Texts("en", catalogue.packaged()["en"], catalogue.packaged()["en"])
    context: dict[str, Any] = {
        "lang": "en",
        "t": texts,
        "page": name.removesuffix(".html"),
        "status": 403,
        "site_name": "Example Gallery",
        "terms_url": "/terms",
        "contact_url": "mailto:help@example.org",
        "logo_url": "/logo.svg",
        "request_id": "0123456789abcdef",
        "nonce": None,
    }
    if name in ("block.html", "throttle.html", "unavailable.html"):
        context.update(action="block", retry_after=30)
    elif name == "challenge.html":
        context.update(
            nonce="sample-nonce",
            form_action="/.scrapeshield/challenge",
            token="signed-token",  # noqa: S106 (a sample, not a secret)
            config=Markup('{"messages": {}}'),
            worker_js=Markup(),
            challenge_js=Markup(),
            wait_url="/.scrapeshield/challenge?wait=x",
            wait_seconds=5,
        )
    elif name == "failed.html":
        context.update(reason="too-early", retry_url="/")
    return context


def check_templates(template_dir: str) -> None:
    """Compile and render every page with an operator's `template_dir` (each with and without
    its optional values); ValueError listing every problem, with file and line."""
    folder = Path(template_dir)
    if not folder.is_dir():
        raise ValueError(f"{template_dir!r} is not a directory")
    problems = [
        f"{path.name}: not a page template (the pages are {', '.join(PAGES)}; base.html and "
        "files starting with _ may be extended or included)"
        for path in sorted(folder.glob("*.html"))
        if path.name not in PAGES and path.name != "base.html" and not path.name.startswith("_")
    ]
    env = environment(template_dir)
    for name in PAGES:
        full = sample_context(name)
        optional = ("terms_url", "contact_url", "logo_url", "retry_after", "wait_url")
        bare = {**full, **dict.fromkeys(k for k in optional if k in full)}
        try:
            template = env.get_template(name)
            for context in (full, bare):
                template.render(context)
        except TemplateSyntaxError as exc:
            problems.append(f"{exc.name or name} line {exc.lineno}: {exc.message}")
        except Exception as exc:  # whatever a template can raise while rendering
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    if problems:
        raise ValueError("; ".join(problems))


def render(env: Environment, name: str, context: Mapping[str, Any]) -> str:
    """The page; if an operator's template fails on this request after all, the packaged one
    (logged), so a refusal is never a 500."""
    try:
        template: Template = env.get_template(name)
        return template.render(context)
    except Exception:  # an operator template can raise anything
        logger.exception("scrapeshield page template %s failed; using the packaged one", name)
    try:
        return env.get_template(BUILTIN + name).render(context)
    except Exception:  # an operator template can raise anything
        logger.exception("scrapeshield packaged page %s failed", name)
        return _plain(context)


def _plain(context: Mapping[str, Any]) -> str:
    return (
        "<!doctype html><title>403</title><p>Request refused. Reference: "
        f"{Markup.escape(context.get('request_id', ''))}</p>"
    )
