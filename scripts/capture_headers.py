"""Record which request headers real clients send, in which order, to a local capture endpoint.

    .venv/bin/python scripts/capture_headers.py \
        > src/scrapeshield/fingerprint/data/header_captures.toml

A tiny ASGI app on 127.0.0.1 records `scope["headers"]` (uvicorn keeps the order the client
sent) for every request. Debian's Chromium (/usr/bin/chromium, driven by Playwright) opens it
as http://localhost:<port> (a secure context, so it sends Sec-Fetch-* and client hints): a
typed navigation, a same-origin link click, the page's image, stylesheet and script, a fetch(),
and an image opened directly as a document. The HTTP libraries installed here (python-requests,
httpx, aiohttp, urllib, curl, Node's fetch, which is undici) request it with their defaults and
with a browser User-Agent set the way scrapers set it. Loopback only.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import shutil
import subprocess
import sys
import urllib.request
from typing import Any

sys.path.insert(0, ".")

from tests.browsers import CHROMIUM, CHROMIUM_ARGS
from tests.servers import serve

CURL = shutil.which("curl") or "curl"


def run(args: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """Our own fixed commands (curl, node) against our own loopback server."""
    return subprocess.run(args, text=True, **options)  # noqa: S603


NODE = shutil.which("node") or "node"
CAPTURED: list[tuple[str, list[tuple[str, str]]]] = []
PAGE = (
    "<!doctype html><html><head><link rel=stylesheet href='/c/style.css'>"
    "<script src='/c/script.js'></script></head><body>"
    "<a id=next href='/c/next'>next</a><img src='/c/image.png'></body></html>"
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
BROWSER_HEADERS = [
    ("sec-ch-ua", '"Chromium";v="131", "Not_A Brand";v="24"'),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Linux"'),
    ("upgrade-insecure-requests", "1"),
    ("user-agent", BROWSER_UA),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("sec-fetch-site", "none"),
    ("sec-fetch-mode", "navigate"),
    ("sec-fetch-user", "?1"),
    ("sec-fetch-dest", "document"),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", "en-GB,en;q=0.9"),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    CAPTURED.append((scope["path"], headers))
    path = scope["path"]
    body, kind = PAGE.encode(), b"text/html"
    if path.endswith(".png"):
        body, kind = PNG, b"image/png"
    elif path.endswith(".css"):
        body, kind = b"body{}", b"text/css"
    elif path.endswith(".js"):
        body, kind = b"fetch('/c/api.json')", b"text/javascript"
    elif path.endswith(".json"):
        body, kind = b"{}", b"application/json"
    response = [(b"content-type", kind), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 200, "headers": response})
    await send({"type": "http.response.body", "body": body})


def take(path: str) -> list[tuple[str, str]]:
    for i, (seen, headers) in enumerate(CAPTURED):
        if seen == path:
            del CAPTURED[i]
            return headers
    raise RuntimeError(f"nothing captured for {path}")


def chromium(port: int) -> tuple[str, list[tuple[str, list[tuple[str, str]]]]]:
    from playwright.sync_api import sync_playwright

    out: list[tuple[str, list[tuple[str, str]]]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        version = browser.version
        page = browser.new_page()
        page.goto(f"http://localhost:{port}/c/typed")
        page.wait_for_load_state("load")
        page.wait_for_timeout(800)
        out.append(("navigate-typed", take("/c/typed")))
        out.append(("image", take("/c/image.png")))
        out.append(("style", take("/c/style.css")))
        out.append(("script", take("/c/script.js")))
        out.append(("fetch", take("/c/api.json")))
        page.click("#next")
        page.wait_for_load_state("load")
        page.wait_for_timeout(800)
        out.append(("navigate-link", take("/c/next")))
        CAPTURED.clear()
        page.goto(f"http://localhost:{port}/c/direct.png")
        out.append(("image-as-document", take("/c/direct.png")))
        browser.close()
    return version, out


def libraries(port: int) -> list[tuple[str, list[tuple[str, str]]]]:
    import aiohttp
    import httpx
    import requests

    url = f"http://127.0.0.1:{port}/c/lib"
    ua = {"User-Agent": BROWSER_UA}
    full = dict(BROWSER_HEADERS)  # every header Chromium sends, in Chromium's order
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for name, call in [
        ("python-requests", lambda h: requests.get(url, headers=h, timeout=5)),
        ("httpx", lambda h: httpx.get(url, headers=h, timeout=5)),
        ("urllib", lambda h: urllib.request.urlopen(urllib.request.Request(url, headers=h))),
    ]:
        call({})
        out.append((f"{name}", take("/c/lib")))
        call(ua)
        out.append((f"{name}+browser-ua", take("/c/lib")))
        call(full)
        out.append((f"{name}+browser-headers", take("/c/lib")))

    async def aio(headers: dict[str, str]) -> None:
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
            await r.read()

    variants = [("", {}), ("+browser-ua", ua), ("+browser-headers", full)]
    for suffix, headers in variants:
        asyncio.run(aio(headers))
        out.append((f"aiohttp{suffix}", take("/c/lib")))
    if shutil.which("curl"):
        every = [arg for k, v in full.items() for arg in ("-H", f"{k}: {v}")]
        for suffix, extra in [
            ("", []),
            ("+browser-ua", ["-A", BROWSER_UA]),
            ("+browser-headers", every),
        ]:
            run([CURL, "-s", "-o", "/dev/null", *extra, url], check=True, timeout=10)
            out.append((f"curl{suffix}", take("/c/lib")))
    if shutil.which("node"):
        for suffix, headers in variants:
            script = (
                f"fetch({json.dumps(url)}, {{headers: {json.dumps(headers)}}}).then(r => r.text())"
            )
            run([NODE, "-e", script], check=True, timeout=20)
            out.append((f"node-undici{suffix}", take("/c/lib")))
    return out


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def main() -> None:
    with serve(app) as server:
        version, browser = chromium(server.port)
        libs = libraries(server.port)
    node = run([NODE, "--version"], capture_output=True).stdout.strip()
    curl = run([CURL, "--version"], capture_output=True).stdout.split()[1]
    import aiohttp
    import httpx
    import requests

    print("# Generated by scripts/capture_headers.py: do not edit by hand; run it again.")
    print(f"# Recorded {datetime.date.today().isoformat()} on 127.0.0.1 (uvicorn keeps the order")
    print("# clients send). Chromium opened http://localhost:<port>, a secure context.")
    print("# Source: scrapeshield's own recording; values are kept only for client hints.")
    print("[recorded]")
    print(f'date = "{datetime.date.today().isoformat()}"')
    print(f'chromium = "Debian Chromium {version} (Playwright, /usr/bin/chromium)"')
    print(
        f'libraries = "python-requests {requests.__version__}, httpx {httpx.__version__}, '
        f"aiohttp {aiohttp.__version__}, urllib (Python {sys.version.split()[0]}), "
        f'curl {curl}, Node {node} fetch (undici)"'
    )
    for kind, headers in browser:
        print("\n[[chromium]]")
        print(f'kind = "{kind}"')
        print(f"order = {toml_list([k for k, _ in headers])}")
        hints = {k: v for k, v in headers if k.startswith("sec-") or k == "user-agent"}
        print(
            "values = { "
            + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in hints.items())
            + " }"
        )
    for name, headers in libs:
        print("\n[[library]]")
        print(f'name = "{name}"')
        print(f"order = {toml_list([k for k, _ in headers])}")


if __name__ == "__main__":
    main()
