"""Shared by the challenge tests: settings that challenge everything, and a Python solver."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

from scrapeshield.challenge import pow
from scrapeshield.settings import Settings
from tests.browsers import CHROME_UA, chrome

KEY = "test-key-0123456789abcdef"
BROWSER_UA = CHROME_UA
NAVIGATE = chrome()
IMAGE = {
    **chrome(Accept="image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
    "Sec-Fetch-Dest": "image",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Site": "same-origin",
}
"""What Chrome sends for an <img> of the page."""


def challenge_all(**challenge: Any) -> Settings:
    """Every request scores 0; a challenge threshold below 0 challenges all but passed clients."""
    options: dict[str, Any] = {"secret_keys": [KEY], "difficulty": 8, "max_difficulty": 12}
    options.update(challenge)
    options["max_difficulty"] = max(options["max_difficulty"], options["difficulty"])
    extra = options.pop("settings", {})
    return Settings(
        site_name="Test Gallery",
        terms_url="/terms",
        policy={"challenge_score": -10},
        challenge=options,
        **extra,
    )


@dataclass
class Page:
    token: str
    nonce: str
    difficulty: int
    action: str
    wait_url: str | None


def parse_page(text: str) -> Page:
    token = re.search(r'name="token" value="([^"]+)"', text)
    config = re.search(r'id="ss-config">([^<]+)</script>', text)
    action = re.search(r'id="ss-form" method="post" action="([^"]+)"', text)
    wait = re.search(r'http-equiv="refresh" content="\d+;url=([^"]+)"', text)
    if not (token and config and action):
        raise AssertionError("not a challenge page")
    data = json.loads(config.group(1))
    return Page(
        token=html.unescape(token.group(1)),
        nonce=data["nonce"],
        difficulty=data["difficulty"],
        action=html.unescape(action.group(1)),
        wait_url=html.unescape(wait.group(1)) if wait else None,
    )


def solve(page: Page) -> dict[str, str]:
    counter = pow.solve(page.nonce, page.difficulty)
    assert counter is not None
    return {"token": page.token, "counter": str(counter)}
