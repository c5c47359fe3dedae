"""A small catalogue for directive tests (the packaged one is owned by the catalogue work)."""

from __future__ import annotations

from scrapeshield.fingerprint.catalogue import Catalogue, parse_catalogue

FIXTURE_TOML = """
source = "test fixture"

[[agents]]
name = "GPTBot"
category = "ai-training"
robots_token = "GPTBot"

[[agents]]
name = "CCBot"
category = "ai-dataset"
robots_token = "CCBot"

[[agents]]
name = "ClaudeBot"
category = "ai-training"
robots_token = "ClaudeBot"

[[agents]]
name = "Google-Extended"
category = "ai-training"
match = []
robots_token = "Google-Extended"

[[agents]]
name = "Applebot-Extended"
category = "ai-training"
match = []
robots_token = "Applebot-Extended"

[[agents]]
name = "Bytespider"
category = "ai-training"
robots_token = "Bytespider"

[[agents]]
name = "ChatGPT-User"
category = "ai-assistant"
robots_token = "ChatGPT-User"

[[agents]]
name = "Claude-User"
category = "ai-assistant"
robots_token = "Claude-User"

[[agents]]
name = "OAI-SearchBot"
category = "ai-search"
robots_token = "OAI-SearchBot"

[[agents]]
name = "img2dataset"
category = "ai-dataset"

[[agents]]
name = "Googlebot"
category = "search-engine"
robots_token = "Googlebot"

[[agents]]
name = "Bingbot"
category = "search-engine"
match = ["bingbot"]
robots_token = "bingbot"
"""


def fixture_catalogue() -> Catalogue:
    return parse_catalogue(FIXTURE_TOML)
