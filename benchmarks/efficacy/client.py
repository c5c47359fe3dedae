"""HTTP clients for the scripted adversaries: exact header order, a cookie jar, a chosen source
address, and pacing by the `RateLimit` response field.

`RawClient` writes each header itself (http.client with `skip_host`), so a recorded browser
header set goes out in the browser's order; it keeps one keep-alive connection, as a browser
does. Cookies go through the standard library's `http.cookiejar` (RFC 6265 rules), appended
where Chromium puts them: last.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.efficacy.core import Ledger

Headers = Sequence[tuple[str, str]]
_RATELIMIT = re.compile(r'"([^"]+)";r=(\d+);t=(\d+)')


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    kind: str = ""


class RawClient:
    """One identity: a source address (or an `X-Forwarded-For` value), a cookie jar and a
    keep-alive connection."""

    def __init__(
        self,
        base_url: str,
        ledger: Ledger,
        *,
        source: str | None = None,
        forwarded_for: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.base = base_url.rstrip("/")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.netloc = parts.netloc
        self.ledger = ledger
        self.source = source
        self.forwarded_for = forwarded_for
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            source = (self.source, 0) if self.source else None
            self._conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout, source_address=source
            )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, method: str, path: str, headers: Headers, body: bytes | None = None
    ) -> Answer:
        url = self.base + path
        probe = urllib.request.Request(url, method=method)
        self.jar.add_cookie_header(probe)
        cookie = probe.get_header("Cookie")
        lines = [("Host", self.netloc), *headers]
        if body is not None:
            lines.append(("Content-Length", str(len(body))))
        if cookie:
            lines.append(("Cookie", cookie))
        if self.forwarded_for:
            lines.append(("X-Forwarded-For", self.forwarded_for))
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for name, value in lines:
                    conn.putheader(name, value)
                conn.endheaders(body)
                response = conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError, TimeoutError):
                self.close()  # a keep-alive connection the server closed: once more, fresh
                if attempt == 2:
                    raise
                continue
            self.jar.extract_cookies(response, probe)
            if response.getheader("connection", "").lower() == "close":
                self.close()
            answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            answer.kind = self.ledger.record(path, answer.status, data, answer.headers)
            return answer
        raise AssertionError("unreachable")

    def get(self, path: str, headers: Headers) -> Answer:
        return self.request("GET", path, headers)


@dataclass
class Pacer:
    """Waits as the `RateLimit` field says: when a group's remaining quota reaches 0, the next
    request of that group waits for the reset; on a 429, for `Retry-After`."""

    ledger: Ledger
    until: dict[str, float] = field(default_factory=dict)
    throttled: int = 0

    def before(self, group: str) -> bool:
        """Sleep until `group` may be used; False if that would pass the wall budget."""
        wait = self.until.get(group, 0.0) - time.monotonic()
        if wait <= 0:
            return True
        if wait >= self.ledger.time_left():
            return False
        time.sleep(wait)
        return True

    def after(self, group: str, answer: Answer) -> None:
        now = time.monotonic()
        if answer.status == 429:
            self.throttled += 1
            retry = answer.headers.get("retry-after", "1")
            self.until[group] = now + (float(retry) if retry.isdigit() else 1.0)
            return
        match = _RATELIMIT.search(answer.headers.get("ratelimit", ""))
        if match and int(match.group(2)) <= 0:
            self.until[group] = now + int(match.group(3)) + 0.05
