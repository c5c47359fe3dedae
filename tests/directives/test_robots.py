"""The generated robots.txt, read back by real parsers: urllib.robotparser and Scrapy's protego."""

from __future__ import annotations

import urllib.robotparser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protego import Protego

from scrapeshield import Settings
from scrapeshield.directives.build import generated_robots, trap_paths
from scrapeshield.directives.robots import parse_robots
from tests.directives.catalogue_fixture import fixture_catalogue

SITE = "https://art.example"
_WEBKIT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko"
UA = {
    "GPTBot": f"{_WEBKIT}; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "CCBot": "CCBot/2.0 (https://commoncrawl.org/faq/)",
    "ClaudeBot": f"{_WEBKIT}; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "Google-Extended": "Google-Extended",
    "Applebot-Extended": "Applebot-Extended",
    "Bytespider": f"{_WEBKIT}) Mobile Safari/537.36 (compatible; Bytespider; spider@bytedance.com)",
    "ChatGPT-User": f"{_WEBKIT}); compatible; ChatGPT-User/1.0; +https://openai.com/bot",
    "Claude-User": "Claude-User/1.0",
    "OAI-SearchBot": "OAI-SearchBot/1.0; +https://openai.com/searchbot",
    "Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "browser": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
}  # fmt: skip

OPERATOR_RULES = """\
# the site's own rules
User-agent: *
Disallow: /admin/
Allow: /

User-agent: Googlebot
User-agent: bingbot
Disallow: /drafts/

Sitemap: https://art.example/old-sitemap.xml
"""


def robots_for(catalogue: Any = None, **directives: Any) -> str:
    return generated_robots(Settings(directives=directives), catalogue=catalogue)


def token_of(ua_key: str) -> str:
    """The product token a crawler matches groups with (what urllib.robotparser expects)."""
    return "Mozilla" if ua_key == "browser" else ua_key.split("/")[0]


def check(text: str, ua_key: str, path: str) -> bool:
    """The verdict of urllib.robotparser (given the product token, as it expects: it only reads
    the user agent up to the first '/') and of protego (given the token and the full user agent
    string, as Scrapy does); all must agree."""
    std = urllib.robotparser.RobotFileParser()
    std.parse(text.splitlines())
    prot = Protego.parse(text)
    token, full = token_of(ua_key), UA.get(ua_key, ua_key)
    verdicts = {
        "urllib": std.can_fetch(token, SITE + path),
        "protego-token": prot.can_fetch(SITE + path, token),
        "protego-full": prot.can_fetch(SITE + path, full),
    }
    assert len(set(verdicts.values())) == 1, (ua_key, path, verdicts, text)
    return verdicts["urllib"]


def test_packaged_catalogue_blocks_its_ai_training_agents() -> None:
    text = robots_for()
    for agent in ("GPTBot", "CCBot"):
        assert not check(text, agent, "/"), agent
        assert not check(text, agent, "/images/cat.png"), agent
    assert check(text, "Googlebot", "/gallery/42")
    assert check(text, "browser", "/gallery/42")


@pytest.mark.parametrize(
    "agent",
    ["GPTBot", "CCBot", "ClaudeBot", "Google-Extended", "Applebot-Extended", "Bytespider",
     "ChatGPT-User", "Claude-User"],
)  # fmt: skip
def test_ai_agents_are_disallowed_everywhere(agent: str) -> None:
    text = robots_for(fixture_catalogue(), robots_rules=OPERATOR_RULES, trap_paths=["/trap/"])
    for path in ("/", "/gallery/42", "/images/cat.png", "/admin/"):
        assert not check(text, agent, path), (agent, path)


@pytest.mark.parametrize("agent", ["Googlebot", "Bingbot", "browser", "OAI-SearchBot"])
def test_search_engines_keep_the_operator_rules(agent: str) -> None:
    text = robots_for(fixture_catalogue(), robots_rules=OPERATOR_RULES, trap_paths=["/trap/"])
    assert check(text, agent, "/gallery/42")
    assert check(text, agent, "/images/cat.png")
    assert not check(text, agent, "/trap/"), "trap paths are disallowed in every group"
    assert not check(text, agent, "/trap/deeper")


def test_operator_group_rules_are_preserved() -> None:
    text = robots_for(fixture_catalogue(), robots_rules=OPERATOR_RULES)
    assert not check(text, "Googlebot", "/drafts/x")
    assert check(text, "Googlebot", "/admin/")  # Googlebot's own group does not say /admin/
    assert not check(text, "browser", "/admin/")
    assert "Sitemap: https://art.example/old-sitemap.xml" in text


def test_blocked_agents_share_one_compact_group() -> None:
    text = robots_for(fixture_catalogue())
    groups = parse_robots(text).groups
    blocked = [g for g in groups if "GPTBot" in g.agents]
    assert len(blocked) == 1
    assert set(blocked[0].agents) >= {"GPTBot", "CCBot", "ClaudeBot", "Google-Extended"}
    assert blocked[0].lines == ["Disallow: /"]
    assert "OAI-SearchBot" not in text  # ai-search is not blocked by default
    assert "img2dataset" not in text  # no robots token: nothing to write


def test_per_agent_overrides() -> None:
    text = robots_for(
        fixture_catalogue(),
        allow_agents=["ChatGPT-User"],
        block_agents=["OAI-SearchBot", "SomeNewBot"],
    )
    assert check(text, "ChatGPT-User", "/gallery/1")
    assert not check(text, "OAI-SearchBot", "/gallery/1")
    assert not check(text, "SomeNewBot/1.0", "/gallery/1")
    assert check(text, "Googlebot", "/gallery/1")


def test_categories_are_configurable() -> None:
    text = robots_for(fixture_catalogue(), block_categories=["ai-search"])
    assert not check(text, "OAI-SearchBot", "/")
    assert check(text, "ClaudeBot", "/")


def test_an_operator_group_for_a_blocked_token_wins() -> None:
    rules = "User-agent: GPTBot\nAllow: /public/\nDisallow: /\n"
    text = robots_for(fixture_catalogue(), robots_rules=rules)
    assert check(text, "GPTBot", "/public/a")
    assert not check(text, "GPTBot", "/gallery")
    assert text.count("User-agent: GPTBot") == 1
    assert not check(text, "ClaudeBot", "/public/a")


def test_usage_lines_sitemaps_and_syntax() -> None:
    text = robots_for(
        fixture_catalogue(),
        sitemaps=["https://art.example/sitemap.xml"],
        paths=[{"prefix": "/open/", "train_ai": True}],
    )
    lines = text.splitlines()
    assert "Content-Usage: train-ai=n" in lines
    assert "Content-Usage: /open/ train-ai=y" in lines
    assert "Content-Signal: search=yes, ai-train=no" in lines
    assert lines[-1] == "Sitemap: https://art.example/sitemap.xml"
    assert text.endswith("\n")
    assert "\r" not in text
    without = robots_for(fixture_catalogue(), content_signal=False)
    assert "Content-Signal" not in without


def test_trap_paths_are_exposed() -> None:
    settings = Settings(directives={"trap_paths": ["/trap/", "/.hidden-gallery/"]})
    assert trap_paths(settings) == ["/trap/", "/.hidden-gallery/"]


def test_robots_file_is_read(tmp_path: Any) -> None:
    path = tmp_path / "robots.txt"
    path.write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    text = robots_for(fixture_catalogue(), robots_file=str(path))
    assert not check(text, "browser", "/private/x")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_any_operator_text_renders_and_parses(text: str) -> None:
    """Garbage in the operator's rules never crashes generation nor lets ClaudeBot in."""
    rendered = robots_for(fixture_catalogue(), robots_rules=text)
    assert rendered.endswith("\n")
    if "user-agent" not in text.lower():
        assert not check(rendered, "ClaudeBot", "/gallery/1")


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPESHIELD_DIRECTIVES__ROBOTS", "merge")
    monkeypatch.setenv("SCRAPESHIELD_DIRECTIVES__TRAP_PATHS", '["/trap/"]')
    section = Settings().directives
    assert section.robots == "merge"
    assert section.trap_paths == ["/trap/"]


def test_the_operators_own_usage_lines_win() -> None:
    rules = "User-agent: *\nContent-Signal: search=yes, ai-train=yes\nContent-Usage: train-ai=y\n"
    text = robots_for(fixture_catalogue(), robots_rules=rules, paths=[{"prefix": "/x/"}])
    assert "ai-train=no" not in text
    assert "Content-Usage: train-ai=n\n" not in text
    assert "Content-Usage: /x/ train-ai=n" in text  # a slot the operator left open
