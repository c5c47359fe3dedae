"""What every adversary shares: the budget, the per-request ledger and the result.

An *original obtained* is a 200 answer on an image route whose bytes are the real image, i.e.
equal to what the bare demo gallery (no shield) serves for that artwork id, taken in-process. A
200 with other bytes on an image route is a decoy; a challenge page or refusal is a stop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from scrapeshield.demo.app import create_gallery
from scrapeshield.demo.art import ARTWORK_COUNT

IMAGE_PATH = re.compile(r"^/images/(\d+)\.png$")
CHALLENGE_MARK = b'id="ss-config"'
TAIL = 10  # answers that must all be content for a run cut by the wall cap to be extrapolated


@dataclass(frozen=True)
class Budget:
    """An adversary stops at `originals`, after `requests`, or after `seconds` of wall time."""

    originals: int = ARTWORK_COUNT
    requests: int = 3000
    seconds: float = 60.0


@dataclass(frozen=True)
class Target:
    """Issue 14's target for one class: at most `originals` (or, for people: never refused)."""

    originals: int | None
    person: bool = False
    text: str = ""


NAIVE = Target(1, text="≤1")
BROWSERLIKE = Target(50, text="≤50")
POOL = Target(100, text="≤100 total")
PERSON = Target(None, person=True, text="never blocked/throttled/decoyed, ≤1 challenge")


async def _bare_get(app: Any, path: str) -> bytes:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"demo")],
        "client": ("127.0.0.1", 1),
        "server": ("demo", 80),
    }
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"the bare gallery answered {message['status']} for {path}")
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


@cache
def reference_hashes() -> dict[int, str]:
    """SHA-256 of every original as the bare gallery serves it (no shield in front)."""

    async def collect() -> dict[int, str]:
        app = create_gallery()
        return {
            i: hashlib.sha256(await _bare_get(app, f"/images/{i}.png")).hexdigest()
            for i in range(1, ARTWORK_COUNT + 1)
        }

    return asyncio.run(collect())


def image_id(path: str) -> int | None:
    """The artwork id of an original's path (`/images/0042.png` is image 42, as Starlette's
    `int` convertor serves it); None for any other path."""
    match = IMAGE_PATH.match(path.split("?", 1)[0])
    return int(match.group(1)) if match else None


def classify(status: int, body: bytes) -> str:
    """`ok`, `challenge`, `throttle`, `block` or `error` for one answer."""
    if status == 429:
        return "throttle"
    if CHALLENGE_MARK in body[:20_000] or b'"error":"challenge"' in body[:400]:
        return "challenge"
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "block"
    return "error"


@dataclass
class Ledger:
    """Everything an adversary saw, one `record` per HTTP request it sent."""

    budget: Budget
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    originals: set[int] = field(default_factory=set)
    decoys: int = 0
    first_stop: int | None = None
    first_stop_kind: str = ""
    outcomes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    policies: set[str] = field(default_factory=set)
    unread: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    ended: float | None = None
    last: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL))

    def record(self, path: str, status: int, body: bytes | None, headers: dict[str, str]) -> str:
        """Count one answer; returns its class (see `classify`), `decoy`, or `unread` (a
        browser that dropped the body before it could be read: neither an original nor a stop).
        """
        self.requests += 1
        self.statuses[status] += 1
        kind = classify(status, body or b"")
        if kind == "block" and "worker-src blob:" in headers.get("content-security-policy", ""):
            kind = "challenge"  # the challenge page's own CSP, when its body is gone
        if body is None and kind == "ok":
            if image_id(path) in self.originals:  # its bytes were read by `confirm`
                self.outcomes["ok"] += 1
                return "ok"
            self.unread[path] += 1
            self.outcomes["unread"] += 1
            return "unread"
        body = body or b""
        policy = headers.get("ratelimit-policy")
        if policy:
            self.policies.add(policy)
        return self._count(path, status, hashlib.sha256(body).hexdigest(), kind)

    def confirm(self, path: str, body: bytes) -> None:
        """An original's bytes read by the caller from a response the browser recorder may
        count (before or after) without them: it counts as obtained, never twice."""
        artwork = image_id(path)
        if artwork is None or artwork in self.originals:
            return
        if reference_hashes().get(artwork) == hashlib.sha256(body).hexdigest():
            self.originals.add(artwork)
            if self.unread[path] > 0:
                self.unread[path] -= 1
                self.outcomes["unread"] -= 1
                self.outcomes["ok"] += 1

    def record_digest(self, path: str, status: int, digest: str | None, kind: str) -> None:
        """For tools that report a body's hash rather than the body (subprocess crawlers)."""
        self.requests += 1
        self.statuses[status] += 1
        self._count(path, status, digest, kind)

    def _count(self, path: str, status: int, digest: str | None, kind: str) -> str:
        """An image answered 200 is an original when its bytes are the bare gallery's, else a
        decoy; then the outcome and the first stop are counted."""
        artwork = image_id(path)
        if kind == "ok" and status == 200 and artwork is not None:
            if reference_hashes().get(artwork) == digest:
                self.originals.add(artwork)
            else:
                kind = "decoy"
                self.decoys += 1
        self.outcomes[kind] += 1
        self.last.append(kind)
        if kind != "ok" and self.first_stop is None:
            self.first_stop, self.first_stop_kind = self.requests, kind
        return kind

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def done(self) -> bool:
        """True once any budget is spent."""
        return (
            len(self.originals) >= self.budget.originals
            or self.requests >= self.budget.requests
            or self.elapsed >= self.budget.seconds
        )

    def still_served(self) -> bool:
        """Whether the last `TAIL` answers were all content: only then does the shield still
        serve the client when the wall cap ends the run, so only then is it extrapolated."""
        return len(self.last) == TAIL and all(kind == "ok" for kind in self.last)

    def time_left(self) -> float:
        return max(0.0, self.budget.seconds - self.elapsed)

    def why_done(self) -> str:
        if len(self.originals) >= self.budget.originals:
            return "all originals"
        if self.requests >= self.budget.requests:
            return f"request cap {self.budget.requests}"
        if self.elapsed >= self.budget.seconds - 0.05:
            return f"wall cap {self.budget.seconds:g} s"
        return "finished"


@dataclass
class Result:
    name: str
    threat: str
    target: Target
    server: str
    originals: int
    requests: int
    first_stop: int | None
    first_stop_kind: str
    outcomes: dict[str, int]
    statuses: dict[int, int]
    seconds: float
    ended_by: str
    rules: dict[str, int]
    first_rule: str
    notes: list[str]
    per_hour: float | None = None
    projected: str = ""
    verdict: str = ""
    skipped: str = ""

    def as_json(self) -> str:
        data = dict(self.__dict__)
        data["target"] = self.target.text
        return json.dumps(data, sort_keys=True)
