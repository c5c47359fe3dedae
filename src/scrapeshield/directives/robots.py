"""robots.txt: the operator's rules, then one compact group for every blocked crawler.

Groups follow RFC 9309. Operator-listed paths (including trap paths) are disallowed in *every*
group, because a crawler obeys only the group naming it, never `*` as well. Disallow lines go
first in each group so that first-match parsers (`urllib.robotparser`) agree with longest-match
ones (Google, protego). A token the operator's own rules name keeps the operator's group.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.rsl import license_url
from scrapeshield.directives.served import (
    APP_SCOPE_KEY,
    StaticDocument,
    etag_for,
    send_document,
)
from scrapeshield.directives.settings import DirectivesSettings, Preferences
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.catalogue import Catalogue, load_catalogue

logger = logging.getLogger("scrapeshield")

ROBOTS_MEDIA_TYPE = "text/plain; charset=utf-8"

_GROUP_RULES = ("allow", "disallow", "crawl-delay", "content-usage", "content-signal")


@dataclass
class Group:
    agents: list[str]
    lines: list[str] = field(default_factory=list)


@dataclass
class ParsedRobots:
    """A robots.txt split into groups (kept verbatim) and the lines outside any group."""

    groups: list[Group]
    sitemaps: list[str]
    other: list[str]

    def named_tokens(self) -> set[str]:
        return {a.lower() for g in self.groups for a in g.agents}


def parse_robots(text: str) -> ParsedRobots:
    """A lenient RFC 9309 reader: enough to add lines to each group without changing meaning."""
    groups: list[Group] = []
    sitemaps: list[str] = []
    other: list[str] = []
    current: Group | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            continue
        if key == "user-agent":
            if current is None or current.lines:
                current = Group([])
                groups.append(current)
            current.agents.append(value)
        elif key == "sitemap":
            sitemaps.append(value)
        elif current is not None:
            current.lines.append(f"{_canonical(key)}: {value}")
        else:
            other.append(line)
    return ParsedRobots(_combine(groups), sitemaps, other)


def _combine(groups: list[Group]) -> list[Group]:
    """Groups naming the same agents become one (RFC 9309 §2.2.1 asks crawlers to combine them;
    `urllib.robotparser` reads only the first `*` group, so we do it for them)."""
    by_agents: dict[frozenset[str], Group] = {}
    for group in groups:
        key = frozenset(a.lower() for a in group.agents)
        if key in by_agents:
            target = by_agents[key].lines
            target += [line for line in group.lines if line not in target]
        else:
            by_agents[key] = Group(list(group.agents), list(group.lines))
    return list(by_agents.values())


def _canonical(key: str) -> str:
    if key in _GROUP_RULES:
        return "-".join(part.capitalize() for part in key.split("-"))
    return key


def content_usage(prefs: Preferences) -> str:
    """The aipref vocabulary expression for these preferences (`train-ai=n`)."""
    parts = [f"train-ai={'y' if prefs.train_ai else 'n'}"]
    if not prefs.search:
        parts.append("search=n")
    return ", ".join(parts)


def content_signal(prefs: Preferences) -> str:
    return f"search={'yes' if prefs.search else 'no'}, ai-train={'yes' if prefs.train_ai else 'no'}"


def blocked_tokens(settings: DirectivesSettings, catalogue: Catalogue) -> list[str]:
    """Robots tokens of the blocked categories, plus `block_agents`, minus `allow_agents`."""
    allowed = set()
    for name in settings.allow_agents:
        agent = catalogue.by_name(name)
        allowed.add((agent.robots_token or agent.name).lower() if agent else name.lower())
    tokens: dict[str, None] = {}
    for token in [*catalogue.robots_tokens(settings.block_categories), *settings.block_agents]:
        agent = catalogue.by_name(token)
        token = (agent.robots_token or token) if agent else token
        if token.lower() not in allowed and token.lower() not in {t.lower() for t in tokens}:
            tokens[token] = None
    return list(tokens)


def render_robots(
    settings: DirectivesSettings,
    operator_text: str,
    *,
    catalogue: Catalogue | None = None,
    preferences: PreferenceResolver | None = None,
) -> str:
    """The whole robots.txt: operator groups (+ everyone-paths, + usage lines), blocked groups."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    preferences = preferences if preferences is not None else PreferenceResolver(settings)
    parsed = parse_robots(operator_text)
    everyone = [f"Disallow: {p}" for p in [*settings.disallow_paths, *settings.trap_paths]]
    usage = _usage_lines(settings, preferences)
    out = ["# robots.txt generated by scrapeshield (https://github.com/scrapeshield/scrapeshield)"]
    licence = license_url(settings)
    if licence and not _names_license(operator_text):
        out.append(f"License: {licence}")  # RSL 1.0: global, like Sitemap (any group)
    out += parsed.other
    groups = list(parsed.groups)
    if not any("*" in g.agents for g in groups):
        groups.append(Group(["*"], ["Allow: /"]))
    for group in groups:
        out.append("")
        out += [f"User-agent: {agent}" for agent in group.agents]
        out += [line for line in everyone if line not in group.lines]
        out += group.lines
        taken = {_slot(line) for line in group.lines}
        out += [line for line in usage if _slot(line) not in taken]
    named = parsed.named_tokens()
    blocked = [t for t in blocked_tokens(settings, catalogue) if t.lower() not in named]
    if blocked:
        out.append("")
        out.append("# AI crawlers: no access (scrapeshield directives.block_categories)")
        out += [f"User-agent: {token}" for token in blocked]
        out.append("Disallow: /")
    sitemaps = list(dict.fromkeys([*parsed.sitemaps, *settings.sitemaps]))
    if sitemaps:
        out.append("")
        out += [f"Sitemap: {url}" for url in sitemaps]
    return "\n".join(out) + "\n"


def _names_license(text: str) -> bool:
    """The operator's rules already announce a licence (theirs wins)."""
    return any(line.strip().lower().startswith("license:") for line in text.splitlines())


def _slot(line: str) -> tuple[str, str]:
    """What a usage line states a preference about: its key, and its path if it names one.
    The operator's own `Content-Usage`/`Content-Signal` line for a slot wins over ours."""
    key, _, value = line.partition(":")
    first = value.split(None, 1)[0] if value.strip() else ""
    return key.strip().lower(), first if first.startswith("/") else ""


def _usage_lines(settings: DirectivesSettings, preferences: PreferenceResolver) -> list[str]:
    """`Content-Usage` (aipref attach draft) per path prefix and `Content-Signal` lines."""
    defaults = preferences.defaults
    lines = [f"Content-Usage: {content_usage(defaults)}"]
    for rule in preferences.path_rules:
        lines.append(f"Content-Usage: {rule.prefix} {content_usage(rule)}")
    if settings.content_signal:
        lines.append(f"Content-Signal: {content_signal(defaults)}")
    return lines


class MergedRobots:
    """`robots = "merge"`: the app serves its own robots.txt; scrapeshield adds its groups.

    The middleware hands the wrapped app to endpoints in the scope (`APP_SCOPE_KEY`). We call it
    with a plain GET (no conditional or encoding headers, so it answers 200 with identity bytes),
    read at most `MAX_APP_BODY`, and render the app's text as the operator's rules. A non-2xx
    or non-`text/plain` answer means "no rules of its own". Merged per request: robots.txt is
    fetched rarely.
    """

    MAX_APP_BODY = 512 * 1024  # Google reads the first 500 KiB; RFC 9309 asks for at least that
    path = "/robots.txt"

    def __init__(
        self,
        settings: DirectivesSettings,
        extra_rules: str,
        *,
        catalogue: Catalogue | None = None,
        preferences: PreferenceResolver | None = None,
    ) -> None:
        self.settings = settings
        self.extra_rules = extra_rules
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self.preferences = preferences if preferences is not None else PreferenceResolver(settings)
        self._last: tuple[str, float] = ("", 0.0)

    def matches(self, facts: Facts) -> bool:
        return facts.path == self.path and facts.method in ("GET", "HEAD")

    @property
    def etag(self) -> str | None:
        """The ETag of the robots.txt last served (None before the first): evidence records it."""
        return self._last[0] or None

    async def app_rules(self, scope: Scope) -> str:
        app: ASGIApp | None = scope.get(APP_SCOPE_KEY)
        if app is None:
            return ""
        drop = {b"if-none-match", b"if-modified-since", b"accept-encoding", b"range"}
        inner = {k: v for k, v in scope.items() if k != APP_SCOPE_KEY}
        inner["method"] = "GET"
        inner["headers"] = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in drop]
        status = 0
        content_type = ""
        chunks: list[bytes] = []
        size = 0

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status, size, content_type
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1").lower()
            elif message["type"] == "http.response.body" and size < self.MAX_APP_BODY:
                body = bytes(message.get("body", b""))[: self.MAX_APP_BODY - size]
                chunks.append(body)
                size += len(body)

        await app(inner, receive, send)
        # An app answering every path with its HTML shell (SPAs do) has no robots.txt.
        if not 200 <= status < 300 or not content_type.startswith("text/plain"):
            return ""
        return b"".join(chunks).decode("utf-8", "replace")

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            own = await self.app_rules(scope)
        except Exception:
            logger.exception("scrapeshield: the app failed serving /robots.txt; merging nothing")
            own = ""
        text = "\n".join(t for t in (own, self.extra_rules) if t)
        body = render_robots(
            self.settings, text, catalogue=self.catalogue, preferences=self.preferences
        ).encode("utf-8")
        etag = etag_for(body)
        if self._last[0] != etag:
            self._last = (etag, float(int(time.time())))
        await send_document(
            facts,
            send,
            body,
            ROBOTS_MEDIA_TYPE,
            etag=etag,
            last_modified=self._last[1],
            max_age=self.settings.robots_max_age,
        )


def robots_endpoint(
    settings: DirectivesSettings,
    *,
    catalogue: Catalogue | None = None,
    preferences: PreferenceResolver | None = None,
) -> StaticDocument | MergedRobots | None:
    """The `/robots.txt` endpoint for `directives.robots` (None when "off")."""
    if settings.robots == "off":
        return None
    rules = settings.operator_rules()
    if settings.robots == "merge":
        return MergedRobots(settings, rules, catalogue=catalogue, preferences=preferences)
    body = render_robots(settings, rules, catalogue=catalogue, preferences=preferences)
    return StaticDocument("/robots.txt", body, ROBOTS_MEDIA_TYPE, max_age=settings.robots_max_age)
