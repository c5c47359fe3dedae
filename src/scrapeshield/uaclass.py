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
from dataclasses import dataclass

import ua_parser
from ua_parser import regex as ua_regex

from scrapeshield.catalogue import Agent, Catalogue
from scrapeshield.catalogue_match import AgentMatcher

# Words that only automated clients put in a user agent (browsers never do): whole words, or
# the usual bot-name suffixes ("FooBot", "foo_crawler").
_BOT_WORDS = re.compile(
    r"bot\b|bot[/_ ;-]|crawl|spider|scrap|slurp|fetcher|\bfetch\b|archiv|harvest|"
    r"\bindex(?:er|ing)\b|\bchecker\b|\bmonitor|\bvalidator\b|\bpreview\b|\bagent/|"
    r"\bhttp[-_ ]?client\b|\blib[a-z]*/|\bsdk\b|\bapi\b|\bcli\b|\bdownload|\bprobe\b|"
    r"\bscan|\bsurvey|\bparser\b|\bsearch\b|\blink|\bthumb|\bsnapshot|\bproxy\b|\bping|\bsynthetic|\bscan|\binspector\b|"
    r"\bresearch|\bagent\)|\baudit|\bwatch",
    re.I,
)
# A URL or e-mail address in a user agent is the self-identification convention of bots.
_CONTACT = re.compile(
    r"https?://|www\.|\+http|@[a-z0-9-]+\.[a-z]|\(at\)|\[at\]|[a-z0-9-]\.(?:com|net|org|io|fr|de|co)\b",
    re.I,
)
_BROWSER_PREFIX = ("mozilla/", "opera/")


@dataclass(frozen=True, slots=True)
class UAInfo:
    """What a user agent says about its sender."""

    agent: Agent | None
    family: str
    major: str
    os: str
    device: str
    bot_reason: str  # why an unknown agent looks automated; "" when it looks like a browser

    @property
    def is_bot(self) -> bool:
        return self.agent is not None or bool(self.bot_reason)

    @property
    def is_browser(self) -> bool:
        return not self.is_bot and self.family != "Other"


class UAClassifier:
    """Compiled once (catalogue matcher + ua-parser resolver); `classify` is cached per string."""

    def __init__(self, catalogue: Catalogue, *, cache_size: int = 4096) -> None:
        self._matcher = AgentMatcher(catalogue)
        self._parser = ua_parser.Parser(ua_regex.Resolver(ua_parser.load_builtins()))
        self._cache: OrderedDict[str, UAInfo] = OrderedDict()
        self._cache_size = cache_size

    def warm(self) -> None:
        """Compile the resolver's regexes now (~100 ms once) rather than on the first request."""
        self.classify("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36")
        self._cache.clear()

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
        match = self._matcher.match(ua) if ua else None
        try:
            result = self._parser.parse(ua)
        except Exception:  # a resolver bug must not cost the request; treat as unparsed
            result = None
        family = result.user_agent.family if result and result.user_agent else "Other"
        major = (result.user_agent.major or "") if result and result.user_agent else ""
        os_family = result.os.family if result and result.os else "Other"
        device = result.device.family if result and result.device else "Other"
        reason = ""
        if match is None and ua:
            reason = _bot_reason(ua, family, device)
        return UAInfo(match.agent if match else None, family, major, os_family, device, reason)


def _bot_reason(ua: str, family: str, device: str) -> str:
    if device == "Spider":
        return "ua-parser classifies it as a spider"
    if _CONTACT.search(ua):
        return "contains a URL or e-mail address, the self-identification of bots"
    if found := _BOT_WORDS.search(ua):
        return f"contains the bot-like word {found.group(0).strip(' /;_-')!r}"
    if family == "Other":
        if not ua.lower().startswith(_BROWSER_PREFIX):
            return "not a browser user agent (no Mozilla/ prefix, no known browser)"
        return "Mozilla/ prefix but no browser ua-parser knows"
    return ""
