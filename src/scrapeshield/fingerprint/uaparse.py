"""ua-parser's answer for one user agent, asked only when something reads it.

The rules of `uarules` decide most never-seen agents without ua-parser's family: a catalogue
agent, punctuation no agent is written in, a contact, a bot word, a program's own product token.
For those the resolver never runs, and nothing reads the family of an agent found to be a bot
(the header checks read it only for browsers). That matters under a flood of distinct agents:
ua-parser's Rust resolver (`ua-parser-rs`, on the `regex` crate) answers in a few µs, but random
text fills its lazy DFAs' caches with states no real agent reaches; a cache that fills is
cleared, and the search that meets the clear costs 0.3-1.3 ms. The cost is the cache's state,
not the input's: the same strings timed again, after 200 others each, cost 13-54 µs, and a
fresh resolver per string never spikes (p99 7 µs; docs/log/detection.md, "Where ua-parser
runs"). Most of it was uap-core's rule of ~200 crawler names (with
`\\b\\w{0,30}favicon\\w{0,30}\\b` and `Yandex\\w{1,30}` in it) and its two rules for any name
ending in a bot word: the shared resolver is built without those three, whose family (a name
they found in the text) the bot rules do not need.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

import ua_parser
from ua_parser import lazy, matchers
from ua_parser import regex as ua_regex
from ua_parser.core import Matcher

# ua-parser sees at most this much: a browser's product tokens come first, and the regex cost
# grows with length. The catalogue matcher and the rules still read the whole (settings-capped)
# agent. 256 would change the family ua-parser gives 29 corpus agents (TikTok's and Outlook's
# tokens come later), so it stays 320.
PARSE_CAP = 320
# The family and the OS are asked apart (round twelve): the rules read the family of every
# Mozilla-form agent, and one they flag needs no OS, whose regexes cost it 3 µs more at the
# median, 13-20 at p99 (a Mozilla/5.0 agent of random words: 8.1-9.0 / 22-29 µs both, 5.6-6.0
# / 8-17 the family alone); a browser's answer costs a second call (corpus agents 10.4 -> 12.3).
_GROUP = re.compile(r"\$[0-9]")
_GLUED_GROUP = re.compile(r"[a-z0-9]\$[0-9]|\$[0-9][a-z0-9]")


@lru_cache(maxsize=1)
def _matchers() -> ua_parser.Matchers:
    """uap-core's rules as data: the lazy matchers hold each regex as text, which is all the
    Rust resolver reads (`load_builtins`' eager ones compile ~1,300 Python `re` patterns that
    nothing runs: ~150 ms and ~1 MB a process)."""
    return ua_parser.load_lazy_builtins()


# uap-core's rules that name any crawler by the words of its agent, each known by a piece of its
# own text: on random text their lazy DFAs fill and clear their caches (0.3-1.2 ms a clear, up
# to 1% of calls on random words), and the family they give (the name they found) is what the
# text already says. The bot rules read the words themselves.
_CRAWLER_RULES = (
    "favicon",  # ~200 crawler names ("Kraken", "holmes", `Yandex\\w{1,30}`, `\\w{0,30}favicon`)
    "[Aa]rchiver|[Ii]ndexer",  # a name ending in archiver, indexer, scraper, bot, spider, crawl
    "[^C][^Uu][Bb]ot",  # a name ending in "bot" (not "Cubot", a phone maker)
)


def is_crawler_rule(matcher: Matcher[ua_parser.UserAgent]) -> bool:
    """One of uap-core's rules of `_CRAWLER_RULES`, whose family is the name it found (`$1`)."""
    return isinstance(matcher, lazy.UserAgentMatcher | matchers.UserAgentMatcher) and any(
        piece in matcher.regex for piece in _CRAWLER_RULES
    )


@lru_cache(maxsize=1)
def shared_resolver() -> ua_regex.Resolver:
    """ua-parser's rules without those naming any crawler (`is_crawler_rule`): their cache
    clears on random text cost 0.3-1.2 ms, and their family (a name copied from the text) made
    an agent naming one count as a browser ua-parser knows (`Mozilla/5.0 (X11; 1) Kraken`) and
    a phone named "M bot 60" something other than the Chrome it runs. Without the device rules:
    nothing asks for a device (`ParsedAgent` reads `.ua` and `.os`), and their 633 regexes were
    ~14 MB of each worker's memory and ~90 ms of its start. Compiling the rest costs ~60 ms:
    once per process, shared (the resolver is stateless)."""
    browsers, oses, _devices = _matchers()
    kept = [m for m in browsers if not is_crawler_rule(m)]
    return ua_regex.Resolver((kept, oses, []))


@lru_cache(maxsize=4)
def self_naming_resolver(words: tuple[str, ...]) -> ua_regex.Resolver:
    """ua-parser's user-agent rules whose family can hold one of `words` (lower case) that the
    agent's text does not: written in the rule itself ("PTST/" is "WebPageTest.org bot",
    "Twitterbot", "OpenVAS Scanner") or glued to a group's text. Every other family is copied
    from the text (`$1`) or free of them, so where the text holds none of `words` and none of
    these rules matches, the family holds none either."""
    rules: list[Matcher[ua_parser.UserAgent]] = [
        m
        for m in _matchers()[0]
        if isinstance(m, lazy.UserAgentMatcher) and _names(m.family, words)
    ]
    return ua_regex.Resolver((rules, [], []))


def _names(family: str, words: Iterable[str]) -> bool:
    family = family.lower()
    fixed = _GROUP.sub("\0", family)  # a word found here is in the rule's own text
    return any(word in fixed for word in words) or bool(_GLUED_GROUP.search(family))


class Parsed(Protocol):
    """What the bot rules read of ua-parser's answer."""

    @property
    def family(self) -> str: ...

    @property
    def may_name_a_bot(self) -> bool: ...


class ParsedAgent:
    """ua-parser's answer for one agent's first `PARSE_CAP` characters (browser family and
    version, OS), resolved the first time it is read.

    It asks the resolver's Rust extractors (`Resolver.ua`, `.os`) directly rather than calling
    the resolver, which wraps each answer in frozen dataclasses (`UserAgent`, `PartialResult`:
    a field set by `object.__setattr__` each) and tests its domains through `enum`: a fifth
    off a never-seen agent's classification at the median (docs/log/detection.md, "Without
    the resolver's wrapping"), the same answers. Each answer is kept in a slot, not by
    `functools.cached_property`, which on Python 3.11 takes a lock on every first read (0.9 µs
    each on this host; a browser's agent reads two)."""

    __slots__ = ("_browser", "_may_name_a_bot", "_os", "_resolver", "_self_naming", "_text")

    def __init__(
        self, user_agent: str, resolver: ua_regex.Resolver, self_naming: ua_regex.Resolver
    ) -> None:
        self._text = user_agent[:PARSE_CAP]
        self._resolver = resolver
        self._self_naming = self_naming
        self._browser: tuple[str, str] | None = None
        self._os: str | None = None
        self._may_name_a_bot: bool | None = None

    @property
    def browser(self) -> tuple[str, str]:
        """Browser family and its major version ("Other", "" unknown): what the rules read."""
        if self._browser is None:
            self._browser = self._extract_browser()
        return self._browser

    def _extract_browser(self) -> tuple[str, str]:
        extract = self._resolver.ua.extract  # (outside the try: a renamed one fails loudly)
        try:  # the browser alone: the OS regexes would add ~4 µs where a rule flags the agent
            found = extract(self._text)
        except Exception:  # a resolver bug must not cost the request; treat as unparsed
            return "Other", ""
        return (found.family, found.major or "") if found else ("Other", "")

    @property
    def answer(self) -> tuple[str, str, str]:
        """Browser family, its major version and OS family ("Other", "", "Other" unknown)."""
        if self._os is None:
            self._os = self._extract_os()
        return *self.browser, self._os

    def _extract_os(self) -> str:
        extract = self._resolver.os.extract
        try:  # the OS apart: only an agent not flagged needs it
            os = extract(self._text)
        except Exception:
            os = None
        return os.family if os else "Other"

    @property
    def family(self) -> str:
        return self.browser[0]

    @property
    def may_name_a_bot(self) -> bool:
        """Whether one of the rules of `self_naming_resolver` matches (whether it is the one
        that names the agent, `family` says)."""
        if self._may_name_a_bot is None:
            extract = self._self_naming.ua.extract
            try:
                self._may_name_a_bot = extract(self._text) is not None
            except Exception:  # then the whole resolver is asked
                self._may_name_a_bot = True
        return self._may_name_a_bot
