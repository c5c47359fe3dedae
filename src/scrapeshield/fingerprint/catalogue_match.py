"""One compiled matcher for the whole catalogue: whole-word, case-insensitive, token lookup.

A user agent is split once into lower-case alphanumeric words; each word is looked up in a dict
keyed by the first word of every catalogue token, and only those few candidates are compared
word by word. The cost grows with the user agent's length, not the catalogue's size, and a
token can never match inside a longer word ("Spider" does not match "TikTokSpider").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scrapeshield.fingerprint.catalogue import Agent, Catalogue

_WORD = re.compile(r"[a-z0-9]+")

# Generic tools rank below named agents when one user agent names several
# ("http.rb/5.1 (Mastodon/4.2)" is Mastodon's preview fetcher, not a Ruby scraper).
_GENERIC = {"scraper-tool": 0, "headless-browser": 1}


def words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


@dataclass(frozen=True, slots=True)
class Match:
    agent: Agent
    token: str


class AgentMatcher:
    """Compiled once per catalogue; `match` is a pure function of the user agent."""

    __slots__ = ("_firsts", "_index")

    def __init__(self, catalogue: Catalogue) -> None:
        index: dict[str, list[tuple[tuple[str, ...], Agent, str]]] = {}
        for agent in catalogue.agents:
            for token in agent.match:
                seq = words(token)
                if seq:
                    index.setdefault(seq[0], []).append((seq, agent, token))
        for candidates in index.values():
            candidates.sort(key=lambda c: -len(c[0]))  # the longest token wins at one position
        self._index = index
        self._firsts = frozenset(index)

    def match(self, user_agent: str) -> Match | None:
        """The most specific catalogue agent named in the user agent, if any."""
        return self.match_words(words(user_agent))

    def match_words(self, ua_words: tuple[str, ...]) -> Match | None:
        found = self.match_all(ua_words)
        if not found:
            return None
        return max(found, key=lambda m: (_GENERIC.get(m.agent.category, 2), len(m.token)))

    def match_all(self, ua_words: tuple[str, ...]) -> list[Match]:
        hits = self._firsts.intersection(ua_words)  # one C-level pass; usually empty
        found: list[Match] = []
        for i, word in enumerate(ua_words):
            if word not in hits:
                continue
            for seq, agent, token in self._index[word]:
                if ua_words[i : i + len(seq)] == seq:
                    found.append(Match(agent, token))
                    break
        return found
