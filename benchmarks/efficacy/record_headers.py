"""Record the request headers Debian's Chromium sends, in order and with their case, as data.

    xvfb-run -a .venv/bin/python -m benchmarks.efficacy.record_headers [--headless] [OUT.json]

A raw TCP server on 127.0.0.1 (a secure context, so Chromium sends Sec-Fetch-* and client
hints) reads each request head byte for byte: ASGI servers lower-case header names, so they
cannot record case. Playwright drives /usr/bin/chromium through: a typed navigation to `/`
(its CSS, JS and image load), a click on a same-origin link to `/next` (with the cookie `/`
set), and a typed navigation straight to an image URL. Headed under Xvfb by default: a
headless Chromium says "HeadlessChrome" in its User-Agent, which is not what a scraper copies.
"""

from __future__ import annotations

import argparse
import json
import socketserver
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from tests.browsers import CHROMIUM, CHROMIUM_ARGS

from scrapeshield.demo.art import png

HERE = Path(__file__).parent
DEFAULT_OUT = HERE / "data" / "chromium-headers.json"
_PAGE = (
    b"<!doctype html><html><head><link rel=stylesheet href=/style.css>"
    b"<script src=/script.js></script></head><body><img src=/images/1.png>"
    b"<a id=next href=/next>next</a></body></html>"
)
_NEXT = b"<!doctype html><html><body><img src=/images/2.png><p id=done>done</p></body></html>"
_BODIES = {
    "/": (b"text/html", _PAGE),
    "/next": (b"text/html", _NEXT),
    "/style.css": (b"text/css", b"body{color:#222}"),
    "/script.js": (b"text/javascript", b"void 0;"),
}


class _Recorder(socketserver.StreamRequestHandler):
    """HTTP/1.1 with keep-alive, just enough for a browser; every request head is kept."""

    seen: list[dict[str, Any]]
    lock = threading.Lock()

    def handle(self) -> None:
        while True:
            request_line = self.rfile.readline(8192)
            if not request_line.strip():
                return
            headers: list[list[str]] = []
            while True:
                line = self.rfile.readline(8192)
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
                headers.append([name, value.strip()])
            method, path, _ = request_line.decode("latin-1").split(" ", 2)
            with self.lock:
                self.seen.append({"method": method, "path": path, "headers": headers})
            self._respond(path)

    def _respond(self, path: str) -> None:
        extra = b""
        if path.startswith("/images/"):
            kind, body = b"image/png", png(int(path.split("/")[-1].split(".")[0]))
        elif path in _BODIES:
            kind, body = _BODIES[path]
            if path == "/":
                extra = b"Set-Cookie: session=recorded; Path=/; HttpOnly; SameSite=Lax\r\n"
        else:
            self.wfile.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        head = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (kind, len(body))
        self.wfile.write(head + extra + b"Cache-Control: no-store\r\n\r\n" + body)


def record(headless: bool) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=headless
            )
            page = browser.new_context().new_page()
            page.goto(f"{base}/", wait_until="load")
            page.click("#next")
            page.wait_for_selector("#done")
            page.wait_for_load_state("load")
            page.goto(f"{base}/images/3.png", wait_until="load")
            version = browser.version
            browser.close()
        server.shutdown()
    labels = {
        "/": "navigation",
        "/style.css": "style",
        "/script.js": "script",
        "/images/1.png": "image",
        "/next": "navigation-same-origin",
        "/images/2.png": "image-same-origin-cookie",
        "/images/3.png": "image-as-document",
    }
    requests = [dict(r, kind=labels.get(r["path"], "other")) for r in seen]
    return {
        "browser": f"Debian Chromium {version}",
        "headless": headless,
        "how": (
            "benchmarks/efficacy/record_headers.py: Playwright driving /usr/bin/chromium "
            f"({'headless' if headless else 'headed, under Xvfb'}) against a raw TCP server on "
            "http://127.0.0.1 (a secure context); header names and order exactly as received "
            "over HTTP/1.1"
        ),
        "requests": requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--headless", action="store_true")
    args = parser.parse_args()
    data = record(args.headless)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    for item in data["requests"]:
        print(item["kind"], item["method"], item["path"])
        for name, value in item["headers"]:
            print(f"    {name}: {value}")


if __name__ == "__main__":
    main()
