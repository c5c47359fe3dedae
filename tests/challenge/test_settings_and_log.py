"""Challenge settings fail at start-up naming the setting; the block log counts its events."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from scrapeshield.challenge import core
from scrapeshield.cli import main
from scrapeshield.errors import ConfigurationError
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield
from scrapeshield.signals import Action
from tests.challenge.conftest import gallery
from tests.challenge.helpers import KEY, NAVIGATE, challenge_all, parse_page, solve
from tests.servers import LOADED_STORE_TIMEOUT, redis_store_settings


@pytest.mark.parametrize(
    ("challenge", "named"),
    [
        ({"secret_keys": ["short"]}, "challenge.secret_keys"),
        ({"cookie_name": "bad name;"}, "challenge.cookie_name"),
        ({"status": 302}, "challenge.status"),
        ({"difficulty": 20, "max_difficulty": 18}, "max_difficulty (18) is below difficulty"),
        ({"difficulty": 0}, "challenge.difficulty"),
        ({"path": "no-slash"}, "challenge.path"),
        ({"noscript_wait": 0}, "challenge.noscript_wait"),
    ],
)
def test_bad_settings_name_the_setting(challenge: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(challenge=challenge)
    assert named in str(info.value)


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPESHIELD_CHALLENGE__SECRET_KEYS", f"{KEY}new,{KEY}")
    settings = Settings()
    keys = [k.get_secret_value() for k in settings.challenge.secret_keys]
    assert keys == [f"{KEY}new", KEY]
    assert KEY not in repr(settings)  # secrets stay out of reprs and logs


def test_without_keys_one_random_key_per_process(caplog: pytest.LogCaptureFixture) -> None:
    core._process_key = None
    first, second = Shield(Settings()), Shield(Settings())
    assert first.challenge is not None
    assert second.challenge is not None
    token = first.challenge.signer.sign("pass", {"b": "x", "exp": 9e9})
    assert second.challenge.signer.verify("pass", token, binding="x")
    warnings = [r for r in caplog.records if "secret_keys is not set" in r.getMessage()]
    assert len(warnings) == 1


def test_disabled_challenge_registers_nothing() -> None:
    shield = Shield(Settings(challenge={"enabled": False}))
    assert shield.challenge is None
    assert Action.CHALLENGE not in shield.action_handlers
    assert Action.CHALLENGE not in shield.log_events


def test_log_summary_counts_challenge_events(
    redis_url: str, redis_prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = challenge_all(settings=redis_store_settings(redis_url, redis_prefix))
    with gallery(settings) as served, httpx.Client(base_url=served.url, headers=NAVIGATE) as c:
        for _ in range(2):
            page = parse_page(c.get("/artworks/4").text)
            assert c.post(page.action, data=solve(page)).status_code == 303
            c.cookies.clear()
        page = parse_page(c.get("/artworks/4").text)
        assert c.post(page.action, data={"token": page.token, "counter": "x"}).status_code == 403
    config = tmp_path / "scrapeshield.toml"
    config.write_text(
        f'store_url = "{redis_url}"\nstore_prefix = "{redis_prefix}"\n'
        f"store_timeout = {LOADED_STORE_TIMEOUT}\n"
    )
    assert main(["log", "summary", "--json", "--config", str(config)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["by_event"] == {
        "challenge/issued": 3,
        "challenge/passed": 2,
        "challenge/failed": 1,
    }
