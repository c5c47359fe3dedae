"""Opt-out headers on the app's pages and images: X-Robots-Tag, TDMRep, Content-Usage.

Only on 2xx responses whose media type is configured (text/html, image/* by default), never on
HEAD-less errors or redirects. The app's own choice wins: a header it already set is not
repeated, and X-Robots-Tag only gains the tokens the app's value lacks.
"""

from __future__ import annotations

from collections.abc import Awaitable

from scrapeshield.directives.base import Headers
from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.robots import content_usage
from scrapeshield.directives.settings import DirectivesSettings, Preferences
from scrapeshield.facts import Facts
from scrapeshield.signals import Decision

_MAX_CACHED_TYPES = 256


class MediaTypes:
    """`text/html`, `image/*`... matched against a Content-Type value (answers cached per value:
    an app sends a handful of distinct ones, on every response)."""

    __slots__ = ("_exact", "_known", "_prefixes")

    def __init__(self, patterns: list[str]) -> None:
        self._exact = frozenset(p for p in patterns if not p.endswith("/*"))
        self._prefixes = tuple(p[:-1] for p in patterns if p.endswith("/*"))
        self._known: dict[str, bool] = {}

    def matches(self, content_type: str) -> bool:
        known = self._known.get(content_type)
        if known is not None:
            return known
        media = content_type.split(";", 1)[0].strip().lower()
        found = bool(media) and (media in self._exact or media.startswith(self._prefixes))
        if len(self._known) < _MAX_CACHED_TYPES:  # values come from the app; stay bounded
            self._known[content_type] = found
        return found


def header_value(headers: Headers, name: bytes) -> str | None:
    """All values of one header joined with ', ' (None when absent)."""
    values = [v.decode("latin-1") for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


def wants_directives(status: int, headers: Headers, media: MediaTypes) -> bool:
    return 200 <= status < 300 and media.matches(header_value(headers, b"content-type") or "")


def directive_headers(
    prefs: Preferences, settings: DirectivesSettings, existing: Headers | None = None
) -> Headers:
    """The headers for these preferences, minus what `existing` (the app's headers) already says."""
    out: Headers = []
    existing = existing or []
    present = {k.lower() for k, _ in existing}
    if not prefs.train_ai:
        wanted = ["noai", "noimageai"] + (["noarchive"] if settings.noarchive else [])
        have = {
            t.strip().lower() for t in (header_value(existing, b"x-robots-tag") or "").split(",")
        }
        missing = [t for t in wanted if t not in have]
        if missing:
            out.append((b"x-robots-tag", ", ".join(missing).encode()))
    if b"tdm-reservation" not in present:
        out.append((b"tdm-reservation", b"0" if prefs.train_ai else b"1"))
        if not prefs.train_ai and settings.tdm_policy_url and b"tdm-policy" not in present:
            out.append((b"tdm-policy", settings.tdm_policy_url.encode("latin-1", "replace")))
    if b"content-usage" not in present:
        out.append((b"content-usage", content_usage(prefs).encode()))
    return out


_OURS = frozenset({b"x-robots-tag", b"tdm-reservation", b"tdm-policy", b"content-usage"})


def _read(headers: Headers) -> tuple[str, bool]:
    """The response's Content-Type (its values joined, as `header_value` gives them) and
    whether it already holds one of our headers: the app's headers read once, not per test."""
    content_types: list[bytes] = []
    ours = False
    for name, value in headers:
        lower = name.lower()
        if lower == b"content-type":
            content_types.append(value)
        elif lower in _OURS:
            ours = True
    if len(content_types) == 1:
        return content_types[0].decode("latin-1"), ours
    return b", ".join(content_types).decode("latin-1"), ours


_MAX_NAMES = 256
_CONTENT_TYPE = 1
_ONE_OF_OURS = 2
Answer = tuple[tuple[bytes, bytes], ...]
_NOTHING: Answer = ()


def _role(name: bytes) -> int:
    """What a header name is to `added`, in any case: Content-Type, one of ours, or neither (0)."""
    lower = name.lower()
    if lower == b"content-type":
        return _CONTENT_TYPE
    return _ONE_OF_OURS if lower in _OURS else 0


class DirectiveHeaders:
    """The ResponseFilter adding the opt-out headers to the app's responses.

    When the app set none of these headers (the usual case) the answer depends only on the two
    preference values, so it is built once per combination, not per response. Without an
    artist preference hook `headers_for` never waits (`answers_now`): the middleware then adds
    the headers in a plain function, with no coroutine per response, through `added` (below).
    """

    def __init__(
        self, settings: DirectivesSettings, preferences: PreferenceResolver | None = None
    ) -> None:
        self.settings = settings
        self.preferences = preferences if preferences is not None else PreferenceResolver(settings)
        self.media = MediaTypes(settings.content_types)
        self._plain: dict[tuple[bool, bool], Headers] = {}
        self.answers_now = not self.preferences.has_hook
        # `added`'s memos: a header name (as sent) -> its role (`_role`), and per path rule
        # (and the defaults) a Content-Type's raw bytes -> the encoded answer.
        self._roles: dict[bytes, int] = {}
        self._rules: list[tuple[str, dict[bytes, Answer]]] = [
            (rule.prefix, {}) for rule in self.preferences.path_rules
        ]
        self._defaults: dict[bytes, Answer] = {}

    def headers_for(
        self, facts: Facts, decision: Decision, status: int, headers: Headers
    ) -> Headers | Awaitable[Headers]:
        if not 200 <= status < 300:
            return []
        content_type, ours = _read(headers)
        if not self.media.matches(content_type):
            return []
        if not self.answers_now:
            return self._with_hook(facts, headers, ours)
        return self._for(self.preferences.for_path(facts.path), headers, ours)

    async def _with_hook(self, facts: Facts, headers: Headers, ours: bool) -> Headers:
        return self._for(await self.preferences.for_request(facts), headers, ours)

    def _for(self, prefs: Preferences, headers: Headers, ours: bool) -> Headers:
        if ours:  # the app set some of them: only what it lacks
            return directive_headers(prefs, self.settings, headers)
        return self._cached(prefs)

    def _cached(self, prefs: Preferences) -> Headers:
        key = (prefs.train_ai, prefs.search)
        cached = self._plain.get(key)
        if cached is None:
            cached = self._plain[key] = directive_headers(prefs, self.settings)
        return list(cached)

    def added(self, path: str, status: int, headers: Headers) -> Answer:
        """`headers_for`'s answer (for a filter that `answers_now`) as a shared tuple: one pass
        over the header names by dict lookups, then one lookup of the route's table by the raw
        Content-Type. A response of several Content-Types or one of ours gets the plain
        computation. Each memo holds at most 256 entries (a flood of distinct names or
        Content-Types is then worked out per response, never stored)."""
        if not 200 <= status < 300:
            return _NOTHING
        roles = self._roles
        content_type = None
        for name, value in headers:
            try:
                role = roles[name]
            except KeyError:
                role = _role(name)
                if len(roles) < _MAX_NAMES:
                    roles[name] = role
            if role:
                if role == _ONE_OF_OURS or content_type is not None:
                    return tuple(self._plain_answer(path, headers))
                content_type = value
        if content_type is None:  # (an empty Content-Type matches no media type)
            return _NOTHING
        table = self._defaults
        for prefix, rule_table in self._rules:  # (`for_path`'s order: longest prefix first)
            if path.startswith(prefix):
                table = rule_table
                break
        found = table.get(content_type)
        if found is None:
            found = tuple(self._plain_answer(path, [(b"content-type", content_type)]))
            if len(table) < _MAX_CACHED_TYPES:
                table[content_type] = found
        return found

    def _plain_answer(self, path: str, headers: Headers) -> Headers:
        """`headers_for`'s computation for a 2xx response, without a hook."""
        content_type, ours = _read(headers)
        if not self.media.matches(content_type):
            return []
        return self._for(self.preferences.for_path(path), headers, ours)
