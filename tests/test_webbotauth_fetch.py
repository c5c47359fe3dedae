"""Key directories are fetched from the named origin only: a redirect is refused (no SSRF hop)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from scrapeshield.fingerprint.webbotauth import url_fetch

BODY = b'{"keys": []}'


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/target")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_directory_is_fetched(origin: str) -> None:
    assert await url_fetch(f"{origin}/target") == BODY


async def test_a_redirect_is_not_followed(origin: str) -> None:
    with pytest.raises(Exception, match="302"):
        await url_fetch(f"{origin}/redirect")
