"""Behind a proxy on a Unix socket the server reports no peer: `trusted_proxies = ["unix"]`
believes its forwarding header, so clients keep their own keys (and their own bans)."""

from __future__ import annotations

import pytest

from scrapeshield import ConfigurationError, Settings, Shield
from scrapeshield.bans import BanList
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import MemoryStore

UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


def _scope(forwarded_for: str) -> dict[str, object]:
    scope = synthetic_scope(
        user_agent=UA, path="/gallery", headers=[("x-forwarded-for", forwarded_for)]
    )
    scope["client"] = None  # what uvicorn reports on a Unix socket
    return scope


async def test_one_scraper_behind_a_unix_socket_proxy_bans_only_itself() -> None:
    shield = Shield(Settings(trusted_proxies=["unix", "10.0.0.0/8"]))
    scraper = None
    for _ in range(400):  # over the limit, throttled, then banned by escalation
        scraper = await shield.decide(shield.facts(_scope("198.51.100.1")))
    assert scraper is not None
    assert scraper.rule == "ban/active"
    assert scraper.client_key == "198.51.100.1"
    person = await shield.decide(shield.facts(_scope("203.0.113.50")))
    assert person.client_key == "203.0.113.50"
    assert person.rule != "ban/active", person  # not caught by the scraper's ban


def test_without_unix_the_header_is_not_believed() -> None:
    shield = Shield(Settings(trusted_proxies=["10.0.0.0/8"]))
    assert shield.facts(_scope("198.51.100.1")).client_key == "unknown"


def test_unix_is_the_only_word_accepted() -> None:
    with pytest.raises(ConfigurationError, match="trusted_proxies"):
        Settings(trusted_proxies=["unix-socket"])


async def test_the_shared_unknown_key_is_never_banned(caplog: pytest.LogCaptureFixture) -> None:
    """Without `unix` trusted, every client behind a socket proxy shares the key 'unknown':
    banning it would block everyone, so the ban is reported and not stored."""
    store = MemoryStore()
    bans = BanList(store)
    ban = await bans.ban("unknown", 3600, reason="escalation", rule="escalation/ban")
    assert ban.remaining == 0
    assert await bans.get("unknown") is None
    assert await store.keys("ban:") == []
    assert "not banning client key 'unknown'" in caplog.text
    await bans.ban("198.51.100.1", 60)
    assert await bans.get("198.51.100.1") is not None
