"""User-agent classification: catalogue match, ua-parser 1.x parse and bot heuristics, cached.

`user_agents.parse` always takes ua-parser's pure-`re` legacy path (hundreds of µs, ~19 ms on a
5,000-character string), so the parse uses ua-parser 1.x's own API with its Rust resolver
(`ua-parser-rs`), on a user agent already capped by `Facts` (settings.user_agent_max_length).
Results are cached per user-agent string in a bounded LRU, so a repeated agent costs one dict
lookup and a flood of unique agents cannot grow memory.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import ua_parser
from ua_parser import regex as ua_regex

from scrapeshield.fingerprint.catalogue import Agent, Catalogue
from scrapeshield.fingerprint.catalogue_match import AgentMatcher, words

# Words that only automated clients put in a user agent (browsers never do), matched on the
# user agent's lower-case alphanumeric words joined by single spaces: exact words, name
# suffixes ("FooBot", "foo-crawler"), prefixes, and stems anywhere in a word. Every alternative
# starts with a literal, so `re` scans in C; `\b`-led alternatives cost ~200 µs on 512 chars.
_EXACT = (
    "sdk|api|cli|probe|parser|search|proxy|index|indexer|indexing|checker|validator|preview|"
    "fetch|agent|synthetics?|scan"
)
_SUFFIX = (
    "bots?|crawler|spider|scraper|fetcher|checker|monitor|validator|archiver|harvester|indexer|"
    "scanner|inspector|downloader|preview"
)
_PREFIX = (
    "crawl|spider|scrap|slurp|archiv|harvest|download|scan|survey|research|audit|synthetic|"
    "monitor|snapshot|thumbnail|ping|fetch"
)
_BOT_WORDS = re.compile(rf" (?:{_EXACT}) |(?:{_SUFFIX}) | (?:{_PREFIX})|crawl|spider|scrape")
# A URL or e-mail address in a user agent is the self-identification convention of bots.
_CONTACT = re.compile(
    r"https?://|www\.|\+http|@[a-z0-9-]+\.[a-z]|\(at\)|\[at\]|\.(?:com|net|org|io|fr|de|co)\b"
)
_BROWSER_PREFIX = ("mozilla/", "opera/")
# ua-parser sees at most this much: a browser's product tokens come first, and the regex cost
# grows with length. The catalogue matcher still reads the whole (settings-capped) agent.
PARSE_CAP = 320
_DOMAINS = ua_parser.Domain.USER_AGENT | ua_parser.Domain.OS


@lru_cache(maxsize=1)
def _shared_resolver() -> ua_regex.Resolver:
    """Compiling ua-parser's regexes costs ~0.3 s: once per process, shared (it is stateless)."""
    return ua_regex.Resolver(ua_parser.load_builtins())


@dataclass(frozen=True, slots=True)
class UAInfo:
    """What a user agent says about its sender."""

    agent: Agent | None
    family: str
    major: str
    os: str
    bot_reason: str  # why an unknown agent looks automated; "" when it looks like a browser

    @property
    def is_bot(self) -> bool:
        return self.agent is not None or bool(self.bot_reason)

    @property
    def is_browser(self) -> bool:
        return not self.is_bot and self.family != "Other"


UA_NOTE = "ua"
"""`RequestContext.notes` key of the request's `UAInfo`, set by the user-agent detector."""


class UAClassifier:
    """Compiled once (catalogue matcher + ua-parser resolver); `classify` is cached per string."""

    def __init__(self, catalogue: Catalogue, *, cache_size: int = 4096) -> None:
        self._matcher = AgentMatcher(catalogue)
        self._resolver = _shared_resolver()
        self._cache: OrderedDict[str, UAInfo] = OrderedDict()
        self._cache_size = cache_size

    def warm(self) -> None:
        """Compile the resolver's regexes now (~100 ms once) rather than on the first request."""
        self.classify("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36")
        self._cache.clear()

    def classify_noted(self, user_agent: str, notes: Mapping[str, object]) -> UAInfo:
        """The request's classification as the user-agent detector noted it (`notes["ua"]`),
        else classified here (cached per string): detectors that run later need not repeat it."""
        info = notes.get(UA_NOTE)
        return info if isinstance(info, UAInfo) else self.classify(user_agent)

    def classify(self, user_agent: str) -> UAInfo:
        cache = self._cache
        info = cache.get(user_agent)
        if info is not None:
            cache.move_to_end(user_agent)
            return info
        info = self._classify(user_agent)
        cache[user_agent] = info
        if len(cache) > self._cache_size:
            cache.popitem(last=False)
        return info

    def _classify(self, user_agent: str) -> UAInfo:
        ua = user_agent.strip()
        ua_words = words(ua)
        match = self._matcher.match_words(ua_words)
        try:  # browser and OS only: device regexes double the cost and add nothing here
            result = self._resolver(ua[:PARSE_CAP], _DOMAINS)
        except Exception:  # a resolver bug must not cost the request; treat as unparsed
            result = None
        family = result.user_agent.family if result and result.user_agent else "Other"
        major = (result.user_agent.major or "") if result and result.user_agent else ""
        os_family = result.os.family if result and result.os else "Other"
        reason = ""
        if match is None and ua:
            reason = _bot_reason(ua, ua_words, family)
        return UAInfo(match.agent if match else None, family, major, os_family, reason)


def _bot_reason(ua: str, ua_words: tuple[str, ...], family: str) -> str:
    if _CONTACT.search(ua.lower()):
        return "contains a URL or e-mail address, the self-identification of bots"
    if found := _BOT_WORDS.search(" " + " ".join(ua_words) + " "):
        return f"contains the bot-like word {found.group(0).strip()!r}"
    if family == "Other":
        if not ua.lower().startswith(_BROWSER_PREFIX):
            return "not a browser user agent (no Mozilla/ prefix, no known browser)"
        return "Mozilla/ prefix but no browser ua-parser knows"
    return ""
