"""A minimal robots.txt that tells AI training crawlers no (the directives issue extends it)."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from scrapeshield.facts import Facts

_AI_TRAINING_TOKENS = ("GPTBot", "CCBot", "ClaudeBot", "Google-Extended", "Bytespider")


class RobotsTxt:
    """Serves `/robots.txt` from scrapeshield, ahead of any blocking."""

    def __init__(self) -> None:
        lines = [f"User-agent: {token}" for token in _AI_TRAINING_TOKENS]
        lines += ["Disallow: /", "", "User-agent: *", "Allow: /", ""]
        self._body = "\n".join(lines)

    def matches(self, facts: Facts) -> bool:
        return facts.path == "/robots.txt" and facts.method in ("GET", "HEAD")

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(self._body, headers={"Cache-Control": "public, max-age=3600"})
        await response(scope, receive, send)
