"""What real browsers send, for tests whose subject is ordinary human traffic.

Since the header-consistency detector judges a browser user agent by the headers that browser
always sends, a test standing in for a person must send them all (on localhost, a secure
context, Chromium also sends Sec-Fetch-* and client hints).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

CHROME_NAVIGATION = {  # in the order Chromium sends them (fingerprint/data/header_captures.toml)
    "Sec-CH-UA": '"Chromium";v="131", "Not_A Brand";v="24"',
    "Sec-CH-UA-Mobile": "?0",
    "Sec-CH-UA-Platform": '"Linux"',
    "User-Agent": CHROME_UA,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Accept-Encoding": "gzip, deflate",
    "Accept-Language": "en-GB,en;q=0.9",
}


def chrome(**overrides: str) -> dict[str, str]:
    """Chrome's navigation headers, with some replaced (keys as in CHROME_NAVIGATION); a
    Referer goes where Chromium sends it, before Accept-Encoding."""
    return _ordered(CHROME_NAVIGATION, overrides, before="Accept-Encoding")


FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FIREFOX_NAVIGATION = {  # Firefox's order (curl-impersonate's Firefox 120 capture; MIT)
    "User-Agent": FIREFOX_UA,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.5",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Upgrade-Insecure-Requests": "1",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-User": "?1",
}


def firefox(**overrides: str) -> dict[str, str]:
    """Firefox's navigation headers, with some replaced (keys as in FIREFOX_NAVIGATION); a
    Referer goes where Firefox sends it, after Accept-Encoding."""
    return _ordered(FIREFOX_NAVIGATION, overrides, before="Upgrade-Insecure-Requests")


def _ordered(base: dict[str, str], overrides: dict[str, str], before: str) -> dict[str, str]:
    headers = dict(base)
    referer = overrides.pop("Referer", None)
    headers.update(overrides)
    if referer is None:
        return headers
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name == before:
            out["Referer"] = referer
        out[name] = value
    out.setdefault("Referer", referer)
    return out


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


def chrome_image(referer: str) -> dict[str, str]:
    """What Chromium sends for an <img> of a page (Referer: the page)."""
    return chrome(
        **{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"},
        Accept="image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        Referer=referer,
    )


def chrome_asset(referer: str, dest: str) -> dict[str, str]:
    """What Chromium sends for a page's stylesheet (`style`) or script (`script`)."""
    accept = "text/css,*/*;q=0.1" if dest == "style" else "*/*"
    return chrome(
        **{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": dest},
        Accept=accept,
        Referer=referer,
    )


def browse_like_a_person(
    client: Any, artworks: Sequence[int], *, index_images: int = 48, pause: float = 0.0
) -> list[tuple[str, int]]:
    """A person in Chromium: the index with its CSS, JS and thumbnails, then artwork pages
    (each reached from the previous page, its original fetched with the page as Referer unless
    the browser has it cached already), pausing between pages. Returns (path, status) pairs.

    `client` is an httpx.Client with `base_url` set; the index shows artworks 1..48."""
    base = str(client.base_url).rstrip("/")
    seen: list[tuple[str, int]] = []
    cached: set[int] = set()

    def get(path: str, headers: dict[str, str]) -> None:
        seen.append((path, client.get(path, headers=headers).status_code))

    get("/", chrome())
    get("/static/gallery.css", chrome_asset(f"{base}/", "style"))
    get("/static/gallery.js", chrome_asset(f"{base}/", "script"))
    for n in range(1, index_images + 1):  # the index shows thumbnails, not originals
        get(f"/thumbs/{n}.png", chrome_image(f"{base}/"))
    previous = f"{base}/"
    for n in artworks:
        time.sleep(pause)
        get(f"/artworks/{n}", chrome(**{"Sec-Fetch-Site": "same-origin"}, Referer=previous))
        previous = f"{base}/artworks/{n}"
        if n not in cached:
            get(f"/images/{n}.png", chrome_image(previous))
            cached.add(n)
    return seen


def person_user_agent(version: str) -> str:
    """The User-Agent a person's (headed) Chromium of this version sends on Linux: headless
    Chromium says `HeadlessChrome`, a self-declared automation tool that no challenge pass
    lets in (docs/challenge.md#what-a-pass-answers)."""
    major = version.split(".", 1)[0]
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


@contextlib.contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never `playwright install`), closed on exit; skips
    when it is not installed (scripts/test installs it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not at /usr/bin/chromium (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
