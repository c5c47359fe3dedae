"""What a scraper does with the published challenge: read the page, do the work in Python (or
take the no-JS path and wait), and keep the pass cookie. Written from the page alone, as a
scraper would: SHA-256("nonce:counter") with `difficulty` leading zero bits."""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
import urllib.parse
from dataclasses import dataclass

_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_CONFIG = re.compile(r'id="ss-config">([^<]+)</script>')
_ACTION = re.compile(r'id="ss-form" method="post" action="([^"]+)"')
_WAIT = re.compile(r'http-equiv="refresh" content="(\d+);url=([^"]+)"')


@dataclass(frozen=True)
class Challenge:
    token: str
    nonce: str
    difficulty: int
    action: str
    wait_url: str | None
    wait_seconds: int


def parse(body: bytes) -> Challenge | None:
    text = body.decode("utf-8", "replace")
    token, config, action = _TOKEN.search(text), _CONFIG.search(text), _ACTION.search(text)
    if not (token and config and action):
        return None
    data = json.loads(config.group(1))
    wait = _WAIT.search(text)
    return Challenge(
        token=html.unescape(token.group(1)),
        nonce=str(data["nonce"]),
        difficulty=int(data["difficulty"]),
        action=html.unescape(action.group(1)),
        wait_url=html.unescape(wait.group(2)) if wait else None,
        wait_seconds=int(wait.group(1)) if wait else 0,
    )


def _zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def work(nonce: str, difficulty: int) -> tuple[int, int, float]:
    """(counter, hashes tried, seconds) of a plain-Python solve."""
    start = time.perf_counter()
    counter = 0
    prefix = f"{nonce}:".encode("ascii")
    while _zero_bits(hashlib.sha256(prefix + str(counter).encode()).digest()) < difficulty:
        counter += 1
    return counter, counter + 1, time.perf_counter() - start


def form(challenge: Challenge) -> tuple[bytes, int, float]:
    """The POST body of a solved challenge, the hashes it took and the seconds."""
    counter, hashes, seconds = work(challenge.nonce, challenge.difficulty)
    body = urllib.parse.urlencode(
        {
            "token": challenge.token,
            "counter": str(counter),
            "elapsed": str(round(seconds * 1000)),
            "hashes": str(hashes),
        }
    )
    return body.encode("ascii"), hashes, seconds
