"""What real browsers send, for tests whose subject is ordinary human traffic.

Since the header-consistency detector judges a browser user agent by the headers that browser
always sends, a test standing in for a person must send them all (on localhost, a secure
context, Chromium also sends Sec-Fetch-* and client hints).
"""

from __future__ import annotations

CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

CHROME_NAVIGATION = {
    "User-Agent": CHROME_UA,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
    "Accept-Encoding": "gzip, deflate",
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-CH-UA": '"Chromium";v="131", "Not_A Brand";v="24"',
    "Sec-CH-UA-Mobile": "?0",
    "Sec-CH-UA-Platform": '"Linux"',
}


def chrome(**overrides: str) -> dict[str, str]:
    """Chrome's navigation headers, with some replaced (keys as in CHROME_NAVIGATION)."""
    headers = dict(CHROME_NAVIGATION)
    headers.update(overrides)
    return headers


CHROMIUM = "/usr/bin/chromium"  # Debian's; never `playwright install`
# Root needs --no-sandbox; the rest keep Chromium from reaching for the (absent) internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def person_user_agent(version: str) -> str:
    """The User-Agent a person's (headed) Chromium of this version sends on Linux: headless
    Chromium says `HeadlessChrome`, a self-declared automation tool that no challenge pass
    lets in (docs/challenge.md#what-a-pass-answers)."""
    major = version.split(".", 1)[0]
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )
