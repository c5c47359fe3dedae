"""`scrapeshield explain` shows `user-agents`' own reading next to the decision."""

from __future__ import annotations

import json

import pytest

from scrapeshield.cli import main

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def explain(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["explain", "--json", *args]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_explain_reports_device_os_and_browser(capsys: pytest.CaptureFixture[str]) -> None:
    parsed = explain(capsys, "--ua", ANDROID_CHROME)["parsed_user_agent"]
    assert parsed == {
        "browser": "Chrome Mobile 131.0.0",
        "os": "Android 10",
        "device": "mobile",
        "device_family": "K",
        "is_bot": False,
    }


def test_the_catalogue_blocks_what_user_agents_calls_a_person(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = explain(capsys, "--ua", "curl/8.1")
    assert result["parsed_user_agent"]["is_bot"] is False  # type: ignore[index]
    assert (result["action"], result["rule"]) == ("block", "scraper-tool")


def test_no_user_agent_no_parse(capsys: pytest.CaptureFixture[str]) -> None:
    assert explain(capsys)["parsed_user_agent"] is None
