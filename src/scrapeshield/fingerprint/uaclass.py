"""User-agent classification: catalogue match, bot heuristics and ua-parser 1.x parse, cached.

`user_agents.parse` always takes ua-parser's pure-`re` legacy path (hundreds of µs, ~19 ms on a
5,000-character string), so the parse uses ua-parser 1.x's own API with its Rust resolver
(`ua-parser-rs`), on a user agent already capped by `Facts` (settings.user_agent_max_length),
and only where its answer is read (`uaparse`): a catalogue agent and most agents the rules flag
are decided without it.
Results are cached per user-agent string in a bounded LRU, so a repeated agent costs one dict
lookup and a flood of unique agents cannot grow memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from scrapeshield.fingerprint.catalogue import Agent, Catalogue
from scrapeshield.fingerprint.catalogue_match import NAME_LISTS, AgentMatcher
from scrapeshield.fingerprint.uacues import BOT_WORD_HINTS, agent_words
from scrapeshield.fingerprint.uaparse import ParsedAgent, self_naming_resolver, shared_resolver
from scrapeshield.fingerprint.uarules import _BROWSER_PREFIX, _bot_reason


@dataclass(frozen=True, slots=True)
class UAInfo:
    """What a user agent says about its sender. `family`, `major` and `os` are ua-parser's for
    an agent that may be a browser's; for a bot (`is_bot`) they are "Other", "" and "Other":
    nothing reads them, and the rules decide most bots without asking ua-parser."""

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


CACHED_AGENT_CHARS = 512
"""The classification cache holds at most `cache_size` × this many characters of agents."""


class UAClassifier:
    """Compiled once (catalogue matcher + ua-parser resolver); `classify` is cached per string."""

    def __init__(self, catalogue: Catalogue, *, cache_size: int = 4096) -> None:
        self._matcher = AgentMatcher(catalogue)
        self._resolver = shared_resolver()
        self._self_naming = self_naming_resolver(BOT_WORD_HINTS)
        self._cache: OrderedDict[str, UAInfo] = OrderedDict()
        self._cache_size = cache_size
        # Characters of agents held: at most what `cache_size` agents of the default length
        # (512) hold, so raising `user_agent_max_length` (up to 16,384) never multiplies what a
        # flood of distinct long agents can make the cache keep.
        self._cache_chars = cache_size * CACHED_AGENT_CHARS
        self._held = 0

    def warm(self) -> None:
        """Compile the resolver's regexes now (~100 ms once) rather than on the first request."""
        self.classify("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36")
        self._cache.clear()
        self._held = 0

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
        self._held += len(user_agent)
        while len(cache) > self._cache_size or self._held > self._cache_chars:
            self._held -= len(cache.popitem(last=False)[0])  # the least recently used
        return info

    def _classify(self, user_agent: str) -> UAInfo:
        ua = user_agent.strip()
        lowered = ua.lower()  # once: the matcher, the words and every heuristic read it
        match = self._matcher.match_words(agent_words(lowered), lowered)
        if match and match.agent.name in NAME_LISTS and lowered.startswith(_BROWSER_PREFIX):
            match = None  # a list's name counts only where a program leads with its own name
        if match is not None:  # a catalogue agent: a bot, whose ua-parser family nothing reads
            return UAInfo(match.agent, "Other", "", "Other", "")
        parsed = ParsedAgent(ua, self._resolver, self._self_naming)  # resolved when read
        if ua and (reason := _bot_reason(lowered, parsed)):
            return UAInfo(None, "Other", "", "Other", reason)
        return UAInfo(None, *parsed.answer, "")
