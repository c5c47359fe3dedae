"""Behind a proxy on a Unix socket the server reports no peer: `trusted_proxies = ["unix"]`
believes its forwarding header, so clients keep their own keys (and their own bans)."""

from __future__ import annotations

import pytest

from scrapeshield import ConfigurationError, Settings, Shield
from scrapeshield.bans import BanList
from scrapeshield.shield import synthetic_scope
from scrapeshield.store import MemoryStore
from tests.browsers import chrome

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


def _browser(forwarded_for: str | None = None, **extra: str) -> dict[str, object]:
    """Chrome's navigation headers (so fingerprinting has nothing to say), with no peer
    address when `forwarded_for` is given (a socket proxy), else from 203.0.113.7."""
    headers = list(chrome(**extra).items())
    if forwarded_for is not None:
        headers.append(("x-forwarded-for", forwarded_for))
    scope = synthetic_scope(path="/gallery", headers=headers)
    if forwarded_for is not None:
        scope["client"] = None
    return scope


def _tight(**extra: object) -> Settings:
    groups = {"default": {"limits": "3/day", "network_limits": "5/day", "user_limits": "4/day"}}
    return Settings(ratelimit={"groups": groups, **extra}, behaviour={"no_assets_pages": 5})


async def test_unknown_clients_are_not_rate_limited_together(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Counting everyone behind a misconfigured socket proxy as one client would throttle them
    all at once: such requests skip client and network limits, and the operator is told once."""
    shield = Shield(_tight())
    decisions = [await shield.decide(shield.facts(_browser(f"198.51.100.{n}"))) for n in range(30)]
    assert {d.action for d in decisions} == {"allow"}, {d.rule for d in decisions}
    assert caplog.text.count("without a client address") == 1
    # Behaviour counts nothing for them either (no-assets would fire after 5 pages otherwise).
    assert all(not d.reasons for d in decisions), decisions[-1].reasons
    # A known client under the same settings is limited as usual.
    known = [await shield.decide(shield.facts(_browser())) for _ in range(5)]
    assert known[-1].action == "throttle"


async def test_unknown_clients_still_get_user_limits() -> None:
    shield = Shield(_tight(user={"header": "x-user"}))

    scope = _browser("198.51.100.1", **{"x-user": "alice"})
    actions = [(await shield.decide(shield.facts(scope))).action for _ in range(6)]
    assert actions[:4] == ["allow"] * 4
    assert actions[4] == "throttle"
