"""Derive the packaged catalogue (`data/agents.toml`) from ai.robots.txt plus hand-written entries.

Shared by `scripts/build_catalogue.py` (the committed snapshot) and `scrapeshield update-data`
(a refresh on a production host), so both produce the same file from the same inputs. Only
facts are taken from ai.robots.txt (agent names, operators); categories and descriptions are
scrapeshield's own, assigned by the rules below.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from scrapeshield.fingerprint.catalogue import CATEGORIES

AI_ROBOTS_REPO = "https://github.com/ai-robots-txt/ai.robots.txt"
AI_ROBOTS_URL = "https://raw.githubusercontent.com/ai-robots-txt/ai.robots.txt/main/robots.json"

_DESCRIPTIONS = {
    "ai-training": "Collects web content for training AI models or selling AI training data.",
    "ai-search": "Crawls pages to index them for an AI-driven search or answer engine.",
    "ai-assistant": "Fetches pages when a user asks an AI assistant or agent to act.",
    "ai-dataset": "Downloads images in bulk to build machine-learning datasets.",
}

# Keyword rules over ai.robots.txt's `function` field, first match wins; the default is
# ai-training, the category the project exists to list.
_FUNCTION_RULES = (
    ("ai-dataset", re.compile(r"\bimages?\b", re.I)),
    (
        "ai-assistant",
        re.compile(
            r"assistant|agent|user[- ]initiated|user prompts|user queries|coding|companion", re.I
        ),
    ),
    ("ai-search", re.compile(r"search", re.I)),
)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def categorise(name: str, function: str) -> str:
    """scrapeshield's category for an ai.robots.txt entry, from its declared function."""
    for category, pattern in _FUNCTION_RULES:
        if pattern.search(function):
            return category
    return "ai-training"


# AI agents whose operators publish IP ranges (snapshots in data/ip-ranges/).
_IP_RANGES = {
    "GPTBot": "openai-gptbot",
    "OAI-SearchBot": "openai-searchbot",
    "CCBot": "common-crawl",
    "PerplexityBot": "perplexitybot",
}


# ai.robots.txt names that are ordinary words in device and app names ("Spider 8" tablets):
# matched only as a product token with a version, the way such an agent sends it.
_QUALIFIED = {"Spider": ["Spider/", "Spider;"], "Operator": ["Operator/"], "Cursor": ["Cursor/"],
              "Trae": ["Trae/"], "Code": ["Code/"]}  # fmt: skip


# Spellings of ai.robots.txt agents seen in the wild (Matomo Device Detector's bot fixtures,
# crawler-user-agents) that differ from the robots.txt token by more than separators.
_ALIASES = {
    "ClaudeBot": ["Anthropic-Claude"],
    "Perplexity-User": ["PerplexityUser"],
    "Google-Extended": ["Bard-AI", "Gemini-AI"],
}


# Agents that sign requests with Web Bot Auth, and the `Signature-Agent` origin they sign as.
_SIGNATURE_AGENTS = {"ChatGPT Agent": ["https://chatgpt.com"]}


def _operator(text: str) -> str:
    """The operator's name only: the first clause, without links or commentary."""
    text = _LINK.sub(r"\1", text).strip()
    text = re.split(r",| that | to | which |\(", text, maxsplit=1)[0].strip().rstrip(".")
    return "" if text.lower().startswith(("unclear", "unknown")) else text[:60]


def derive_ai_entries(robots: Mapping[str, Any], *, commit: str, date: str) -> list[dict[str, Any]]:
    """One catalogue entry per ai.robots.txt agent (its key is both the match token and the
    robots.txt product token)."""
    entries = []
    seen: set[str] = set()
    for name, info in robots.items():
        if name.lower() in seen:  # the list spells some agents twice with different case
            continue
        seen.add(name.lower())
        info = info if isinstance(info, Mapping) else {}
        category = categorise(name, str(info.get("function", "")))
        entries.append(
            {
                "name": name,
                "category": category,
                "match": [*_QUALIFIED.get(name, [name]), *_ALIASES.get(name, [])],
                "robots_token": name,
                "operator": _operator(str(info.get("operator", ""))),
                "description": _DESCRIPTIONS[category],
                "verification": "ip-ranges" if name in _IP_RANGES else "none",
                "ip_ranges": _IP_RANGES.get(name, ""),
                "signature_agents": _SIGNATURE_AGENTS.get(name, []),
                "source": f"{AI_ROBOTS_REPO} robots.json @ {commit}",
                "source_date": date,
            }
        )
    return entries


def merge(ai: Iterable[dict[str, Any]], manual: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Manual entries override derived ones of the same name (keeping the robots.txt token);
    derived entries whose every token a manual entry already matches are folded into it."""
    manual = list(manual)
    by_name = {m["name"].lower(): m for m in manual}
    claimed = {t.lower() for m in manual for t in m.get("match", [m["name"]])}
    out = []
    for entry in ai:
        override = by_name.get(entry["name"].lower())
        if override is not None:
            override.setdefault("robots_token", entry["robots_token"])
            continue
        if {t.lower() for t in entry["match"]} <= claimed:
            continue
        out.append(entry)
    return out + manual


def validate(entries: Iterable[dict[str, Any]]) -> list[str]:
    """Schema problems, one line each; an empty list means the entries are sound."""
    problems = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        label = f"agents[{i}] {entry.get('name', '?')!r}"
        for key in ("name", "category", "match", "source", "source_date"):
            if not entry.get(key):
                problems.append(f"{label}: missing {key}")
        if entry.get("category") not in CATEGORIES:
            problems.append(f"{label}: unknown category {entry.get('category')!r}")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(entry.get("source_date", ""))):
            problems.append(f"{label}: source_date must be YYYY-MM-DD")
        if entry.get("verification", "none") not in ("none", "ip-ranges", "rdns"):
            problems.append(f"{label}: unknown verification {entry.get('verification')!r}")
        name = str(entry.get("name", "")).lower()
        if name in seen:
            problems.append(f"{label}: duplicate name")
        seen.add(name)
    return problems


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def render(entries: Iterable[dict[str, Any]], *, source: str) -> str:
    lines = [
        "# GENERATED by scripts/build_catalogue.py (or `scrapeshield update-data`): do not edit.",
        "# Edit data/agents_manual.toml or the category rules in catalogue_build.py instead.",
        "# AI agents derived from ai.robots.txt (MIT, see LICENSE.ai-robots-txt); categories and",
        "# descriptions are scrapeshield's own.",
        f"source = {_toml_value(source)}",
    ]
    for entry in entries:
        lines += ["", "[[agents]]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in entry.items() if value]
    return "\n".join(lines) + "\n"


def build(robots_json: str, manual_toml: str, *, commit: str, date: str) -> str:
    """robots.json + manual TOML text -> agents.toml text; ValueError if the result is unsound."""
    robots = json.loads(robots_json)
    if not isinstance(robots, dict) or not robots:
        raise ValueError("robots.json: expected a non-empty object of agents")
    manual = tomllib.loads(manual_toml).get("agents", [])
    entries = merge(derive_ai_entries(robots, commit=commit, date=date), manual)
    problems = validate(entries)
    if problems:
        raise ValueError("; ".join(problems))
    source = f"{AI_ROBOTS_REPO} @ {commit} ({date}) + scrapeshield agents_manual.toml"
    return render(entries, source=source)
