"""The crawler/bot catalogue: package data (`data/agents.toml`) loaded once into `Agent` records.

Each entry records the public source it came from and the date. Matching user agents against
the catalogue is the fingerprinting detector's job; this module only loads and indexes the data,
so directives (robots.txt groups) and detectors share one source of truth.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

DATA = resources.files("scrapeshield.fingerprint.data")  # the packaged catalogue and ranges

CATEGORIES = (
    "ai-training",
    "ai-search",
    "ai-assistant",
    "ai-dataset",
    "search-engine",
    "social-preview",
    "feed-reader",
    "archiver",
    "monitor",
    "scraper-tool",
    "headless-browser",
    "other-bot",
)


@dataclass(frozen=True, slots=True)
class Agent:
    """One known automated agent."""

    name: str
    category: str
    match: tuple[str, ...]
    robots_token: str | None = None
    operator: str = ""
    description: str = ""
    verification: str = "none"
    rdns_suffixes: tuple[str, ...] = ()
    ip_ranges: str | None = None
    signature_agents: tuple[str, ...] = ()  # Web Bot Auth `Signature-Agent` origins
    source: str = ""
    source_date: str = ""


@dataclass(frozen=True, slots=True)
class Catalogue:
    agents: tuple[Agent, ...]
    source: str = ""

    def by_name(self, name: str) -> Agent | None:
        lowered = name.lower()
        return next((a for a in self.agents if a.name.lower() == lowered), None)

    def in_categories(self, categories: Iterable[str]) -> list[Agent]:
        wanted = set(categories)
        return [a for a in self.agents if a.category in wanted]

    def robots_tokens(self, categories: Iterable[str]) -> list[str]:
        """Distinct robots.txt product tokens of the agents in these categories, in file order."""
        seen: dict[str, None] = {}
        for agent in self.in_categories(categories):
            if agent.robots_token:
                seen.setdefault(agent.robots_token, None)
        return list(seen)


def parse_catalogue(text: str) -> Catalogue:
    data = tomllib.loads(text)
    agents = []
    for entry in data.get("agents", []):
        agents.append(
            Agent(
                name=entry["name"],
                category=entry["category"],
                match=tuple(entry.get("match", [entry["name"]])),
                robots_token=entry.get("robots_token"),
                operator=entry.get("operator", ""),
                description=entry.get("description", ""),
                verification=entry.get("verification", "none"),
                rdns_suffixes=tuple(entry.get("rdns_suffixes", [])),
                ip_ranges=entry.get("ip_ranges"),
                signature_agents=tuple(entry.get("signature_agents", [])),
                source=entry.get("source", ""),
                source_date=entry.get("source_date", ""),
            )
        )
    return Catalogue(tuple(agents), str(data.get("source", "")))


@lru_cache(maxsize=4)
def load_catalogue(data_dir: str | None = None) -> Catalogue:
    """The catalogue, parsed once per process: from `data_dir` when `scrapeshield update-data`
    wrote one there (settings `fingerprint.data_dir`), else the packaged snapshot."""
    if data_dir is not None:
        refreshed = Path(data_dir) / "agents.toml"
        if refreshed.is_file():
            return parse_catalogue(refreshed.read_text("utf-8"))
    text = DATA.joinpath("agents.toml").read_text("utf-8")
    return parse_catalogue(text)
