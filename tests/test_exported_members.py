"""The public API is exactly the curated `__all__`, and every name in it imports."""

from __future__ import annotations

import pytest

import scrapeshield

DOCUMENTED = {
    "Action",
    "Ban",
    "BlockEvent",
    "ConfigurationError",
    "CredentialSpec",
    "Decision",
    "Facts",
    "PolicyRuleSpec",
    "PolicySettings",
    "RouteGroupSpec",
    "RuleSpec",
    "ScrapeShield",
    "ScrapeShieldError",
    "Settings",
    "Shield",
    "Signal",
    "StoreError",
    "StoreUnavailable",
    "__version__",
    "blocklist",
    "route",
    "safelist",
}


def test_all_is_the_documented_list() -> None:
    assert set(scrapeshield.__all__) == DOCUMENTED
    assert len(scrapeshield.__all__) == len(DOCUMENTED)


def test_every_exported_member_imports_and_is_public() -> None:
    for name in scrapeshield.__all__:
        member = getattr(scrapeshield, name)
        assert member is not None
        if name != "__version__":
            assert not member.__module__.startswith("scrapeshield._"), name
            assert member.__module__.startswith("scrapeshield"), name


def test_the_lazy_names_are_the_exported_ones() -> None:
    """The package root imports a public name's module on first use (`_HOMES`): every name it
    can load is exported, and a name it does not know is an AttributeError, not an import."""
    assert set(scrapeshield._HOMES) | {"__version__"} == DOCUMENTED
    with pytest.raises(AttributeError, match="no attribute 'Shiled'"):
        scrapeshield.Shiled  # noqa: B018


def test_star_import() -> None:
    namespace: dict[str, object] = {}
    exec("from scrapeshield import *", namespace)
    assert {k for k in namespace if k != "__builtins__"} == DOCUMENTED


def test_version_matches_the_package_metadata() -> None:
    from importlib.metadata import version

    assert scrapeshield.__version__ == version("scrapeshield")
