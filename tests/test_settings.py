"""Settings from keyword arguments, SCRAPESHIELD_* variables and TOML files, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scrapeshield import ConfigurationError, Settings
from scrapeshield.signals import Action


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scrapeshield.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(excinfo: pytest.ExceptionInfo[ConfigurationError]) -> list[str]:
    return list(excinfo.value.problems)


def test_defaults_protect_with_memory_store_and_enforce_mode() -> None:
    settings = Settings()
    assert settings.mode == "enforce"
    assert settings.store_url == "memory://"
    assert settings.fail_mode == "open"
    assert settings.trusted_proxies == []
    assert settings.ipv6_prefix == 64


def test_keyword_arguments() -> None:
    settings = Settings(mode="monitor", policy={"block_score": 60}, trusted_proxies=["10.0.0.0/8"])
    assert settings.mode == "monitor"
    assert settings.policy.block_score == 60
    assert settings.trusted_proxies == ["10.0.0.0/8"]


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPESHIELD_MODE", "monitor")
    monkeypatch.setenv("SCRAPESHIELD_STORE_URL", "redis://127.0.0.1:6390/2")
    monkeypatch.setenv("SCRAPESHIELD_STORE_TIMEOUT", "0.5")
    monkeypatch.setenv("SCRAPESHIELD_TRUSTED_PROXIES", "10.0.0.0/8, 2001:db8::/32")
    monkeypatch.setenv("SCRAPESHIELD_POLICY__BLOCK_SCORE", "90")
    monkeypatch.setenv("SCRAPESHIELD_BLOCKLIST", '[{"name": "wget", "user_agents": ["Wget/*"]}]')
    settings = Settings()
    assert settings.mode == "monitor"
    assert settings.store_url == "redis://127.0.0.1:6390/2"
    assert settings.store_timeout == 0.5
    assert settings.trusted_proxies == ["10.0.0.0/8", "2001:db8::/32"]
    assert settings.policy.block_score == 90
    assert settings.policy.challenge_score == 40  # the rest of the section keeps its defaults
    assert [rule.name for rule in settings.blocklist] == ["wget"]


def test_environment_lists_as_json_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPESHIELD_TRUSTED_PROXIES", '["10.0.0.0/8", "::1"]')
    assert Settings().trusted_proxies == ["10.0.0.0/8", "::1"]
    monkeypatch.setenv("SCRAPESHIELD_TRUSTED_PROXIES", "")
    assert Settings().trusted_proxies == []


def test_toml_top_level(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        mode = "monitor"
        terms_url = "https://art.example/terms"
        trusted_proxies = ["10.0.0.0/8"]

        [policy]
        challenge_score = 30

        [[policy.rules]]
        name = "no-ai"
        signals = ["ua/category/ai-*"]
        action = "block"

        [[safelist]]
        name = "office"
        ips = ["203.0.113.0/24"]

        [[blocklist]]
        name = "wget"
        user_agents = ["Wget/*"]
        """,
    )
    settings = Settings.from_file(path)
    assert settings.mode == "monitor"
    assert settings.terms_url == "https://art.example/terms"
    assert settings.policy.challenge_score == 30
    assert settings.policy.rules[0].action is Action.BLOCK
    assert settings.safelist[0].ips == ["203.0.113.0/24"]
    assert settings.blocklist[0].name == "wget"


def test_toml_scrapeshield_table_in_a_shared_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [app]
        debug = true

        [scrapeshield]
        mode = "off"
        site_name = "Gallery"

        [scrapeshield.policy]
        block_score = 70
        """,
    )
    settings = Settings.from_file(str(path))
    assert settings.mode == "off"
    assert settings.site_name == "Gallery"
    assert settings.policy.block_score == 70


def test_precedence_kwargs_over_env_over_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'mode = "off"\nsite_name = "file"\nstore_prefix = "file:"\n')
    monkeypatch.setenv("SCRAPESHIELD_MODE", "monitor")
    monkeypatch.setenv("SCRAPESHIELD_SITE_NAME", "env")
    settings = Settings.from_file(path, site_name="kwargs")
    assert settings.site_name == "kwargs"
    assert settings.mode == "monitor"
    assert settings.store_prefix == "file:"
    assert Settings(mode="enforce").mode == "enforce"  # kwargs over env without a file


def test_env_and_file_merge_within_a_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[policy]\nchallenge_score = 10\nblock_score = 20\n")
    monkeypatch.setenv("SCRAPESHIELD_POLICY__BLOCK_SCORE", "99")
    settings = Settings.from_file(path)
    assert (settings.policy.challenge_score, settings.policy.block_score) == (10, 99)


def test_every_bad_setting_is_named_in_one_error() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        Settings(
            mode="loud",
            store_timeout=-1,
            store_url="http://example.com",
            trusted_proxies=["not-a-cidr"],
            ipv6_prefix=8,
            policy={"block_score": "high"},
        )
    found = problems(excinfo)
    assert len(found) == 6
    for name in ("mode", "store_timeout", "store_url", "trusted_proxies", "ipv6_prefix"):
        assert any(p.startswith(f"{name} (SCRAPESHIELD_{name.upper()}):") for p in found), name
    assert any(p.startswith("policy.block_score") for p in found)
    assert "6 invalid scrapeshield settings" in str(excinfo.value)
    assert "'not-a-cidr' is not an IP address or CIDR" in str(excinfo.value)


def test_bad_environment_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPESHIELD_STORE_TIMEOUT", "soon")
    monkeypatch.setenv("SCRAPESHIELD_TRUSTED_PROXIES", "10.0.0.0/8,nope")
    with pytest.raises(ConfigurationError) as excinfo:
        Settings()
    found = problems(excinfo)
    assert len(found) == 2
    assert found[0].startswith("store_timeout (SCRAPESHIELD_STORE_TIMEOUT):")
    assert "'nope' is not an IP address or CIDR" in found[1]


def test_bad_rule_in_a_file_names_the_rule_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[[blocklist]]\nname = ""\nips = ["300.1.1.1"]\n')
    with pytest.raises(ConfigurationError) as excinfo:
        Settings.from_file(path)
    found = problems(excinfo)
    assert any(p.startswith("blocklist.0.name") for p in found)
    assert any(p.startswith("blocklist.0.ips") and "300.1.1.1" in p for p in found)


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        Settings(mod="monitor")
    assert problems(excinfo) == [
        "mod: unknown setting (check the spelling against docs/settings.md)"
    ]
    path = write(tmp_path, "[policy]\nblock_scor = 3\n[[safelist]]\nname = 'x'\nip = ['1.2.3.4']\n")
    with pytest.raises(ConfigurationError) as excinfo:
        Settings.from_file(path)
    assert {p.split(" ")[0] for p in problems(excinfo)} == {"policy.block_scor", "safelist.0.ip"}


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        Settings.from_file(tmp_path / "missing.toml")
    with pytest.raises(ConfigurationError, match="cannot read"):
        Settings.from_file(tmp_path)  # a directory


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "mode = \n")
    with pytest.raises(ConfigurationError, match=r"invalid TOML \(.*line 1"):
        Settings.from_file(path)


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(Exception, match="frozen"):
        settings.mode = "off"  # type: ignore[misc]


def test_a_rejected_secret_is_never_echoed() -> None:
    """Start-up errors end up in deployment logs: they name the setting, never its value."""
    with pytest.raises(ConfigurationError) as caught:
        Settings(challenge={"secret_keys": ["shortsecret"]})
    assert "shortsecret" not in str(caught.value)
    assert "SCRAPESHIELD_CHALLENGE__SECRET_KEYS" in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        Settings(store_url="foo://user:hunter2@db.internal/0")
    assert "hunter2" not in str(caught.value)
    assert "user:***@db.internal" in str(caught.value)


def test_a_nested_setting_names_its_nested_environment_variable() -> None:
    with pytest.raises(
        ConfigurationError, match=r"SCRAPESHIELD_RATELIMIT__GROUPS__DEFAULT__LIMITS"
    ):
        Settings(ratelimit={"groups": {"default": {"limits": "nonsense"}}})


def test_identity_prefixes_renamed_name_their_replacement() -> None:
    """One word, one meaning: a bare `ipv6_prefix` is a client's /64; the network is named so."""
    with pytest.raises(ConfigurationError, match=r"renamed identity\.network_ipv6_prefix"):
        Settings(identity={"ipv6_prefix": 48})
    assert Settings(identity={"network_ipv6_prefix": 40}).identity.network_ipv6_prefix == 40
