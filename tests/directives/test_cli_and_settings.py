"""`scrapeshield robots`, `scrapeshield directives PATH`, and eager validation of the section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from protego import Protego

from scrapeshield import ConfigurationError, Settings
from scrapeshield.cli import main


def test_robots_command_prints_a_parseable_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["robots"]) == 0
    text = capsys.readouterr().out
    parser = Protego.parse(text)
    assert not parser.can_fetch("https://a.example/", "GPTBot")
    assert not parser.can_fetch("https://a.example/", "CCBot")
    assert parser.can_fetch("https://a.example/", "Googlebot")


def test_robots_command_reads_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "scrapeshield.toml"
    config.write_text(
        '[directives]\ntrap_paths = ["/trap/"]\nsitemaps = ["https://a.example/s.xml"]\n'
        'allow_agents = ["CCBot"]\n',
        encoding="utf-8",
    )
    assert main(["robots", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "Disallow: /trap/" in text
    assert "Sitemap: https://a.example/s.xml" in text
    assert Protego.parse(text).can_fetch("https://a.example/", "CCBot")


def test_directives_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["directives", "/images/cat.png"]) == 0
    out = capsys.readouterr().out
    assert "x-robots-tag: noai, noimageai" in out
    assert "tdm-reservation: 1" in out
    config = tmp_path / "s.toml"
    config.write_text(
        '[[directives.paths]]\nprefix = "/open/"\ntrain_ai = true\n', encoding="utf-8"
    )
    assert main(["directives", "/open/page", "--json", "--config", str(config)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["headers"] == [["tdm-reservation", "0"], ["content-usage", "train-ai=y"]]
    assert result["meta"] == '<meta name="tdm-reservation" content="0">'
    assert main(["directives", "/api/x.json"]) == 0
    assert "no directive headers" in capsys.readouterr().out


def test_bad_settings_are_named_all_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(
            directives={
                "robots": "sometimes",
                "block_categories": ["ai-training", "robots-from-mars"],
                "trap_paths": ["trap"],
                "tdm_policy_url": "ftp://x",
                "paths": [{"prefix": "/a*"}],
                "allow_agents": ["Bad: token"],
            }
        )
    text = str(info.value)
    for name in (
        "directives.robots",
        "directives.block_categories",
        "directives.trap_paths",
        "directives.tdm_policy_url",
        "directives.paths.0.prefix",
        "directives.allow_agents",
    ):
        assert name in text, name


def test_unreadable_robots_file_fails_at_start_up(tmp_path: Path) -> None:
    from scrapeshield import Shield

    settings = Settings(directives={"robots_file": str(tmp_path / "missing.txt")})
    with pytest.raises(ConfigurationError, match=r"directives\.robots_file"):
        Shield(settings)
