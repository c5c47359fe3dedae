"""Testing an app with the shield on: a client that looks like a person's browser.

    from starlette.testclient import TestClient
    from scrapeshield.testing import TEST_CLIENT_ADDRESS, browser_headers

    client = TestClient(
        app,
        base_url="https://testserver",        # a secure context, as in production
        client=TEST_CLIENT_ADDRESS,           # an address: limits apply, no `unknown` key
        headers=dict(browser_headers()),      # a browser's navigation headers
    )

Starlette's TestClient otherwise reports the peer `testclient` (not an address: every request's
key is `unknown`, client limits do not apply) and sends `User-Agent: testclient` (a program's
name: challenged). See docs/testing.md.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from typing import Any

TEST_CLIENT_ADDRESS = ("198.18.0.10", 50000)
"""A peer address for a test client, from RFC 2544's benchmarking range (never a real client,
and in no example of the docs)."""

CHROME_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
_DATA = files("scrapeshield.fingerprint.data")


def browser_family(user_agent: str) -> str | None:
    """chromium, firefox or safari, by the UA's product tokens (as the header judge names
    them); None for anything else."""
    if "Firefox/" in user_agent:
        return "firefox"
    if "Chrome/" in user_agent or "Chromium/" in user_agent or "CriOS/" in user_agent:
        return "chromium"
    if "Safari/" in user_agent and "Version/" in user_agent:
        return "safari"
    return None


def browser_headers(
    user_agent: str = CHROME_USER_AGENT, *, secure: bool = True
) -> list[tuple[str, str]]:
    """The headers a browser of the UA's family sends with a typed navigation, in its recorded
    order (fingerprint/data: Chromium recorded here, Firefox and Safari from published
    captures). Over plain HTTP, without Sec-Fetch-* and client hints, as browsers do."""
    family = browser_family(user_agent)
    if family is None:
        raise ValueError(f"not a Chromium, Firefox or Safari user agent: {user_agent!r}")
    data = tomllib.loads(_DATA.joinpath("browser_navigation.toml").read_text())
    entry: dict[str, Any] = data[family]
    values: dict[str, str] = dict(entry["values"])
    values["user-agent"] = user_agent
    if family == "chromium":
        major = _major(user_agent)
        values["sec-ch-ua"] = f'"Not:A-Brand";v="24", "Chromium";v="{major}"'
        values["sec-ch-ua-mobile"] = "?1" if "Mobile" in user_agent else "?0"
        values["sec-ch-ua-platform"] = f'"{_platform(user_agent)}"'
    names = [n for n in entry["order"] if secure or not n.startswith("sec-")]
    return [(name, values[name]) for name in names if name != "host"]


def _major(user_agent: str) -> str:
    for token in ("Chrome/", "Chromium/", "CriOS/"):
        if token in user_agent:
            return user_agent.split(token, 1)[1].split(".", 1)[0]
    return "0"


def _platform(user_agent: str) -> str:
    for needle, platform in (
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "Chrome OS"),
        ("Linux", "Linux"),
    ):
        if needle in user_agent:
            return platform
    return "Unknown"
