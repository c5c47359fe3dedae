"""Worst-case cost of one request whose client-controlled headers, path or query are as large as
a server lets through, next to a normal browser request (every defence as shipped, memory store).

.venv/bin/python -m benchmarks.bench_hostile_headers [--size 65536] [--seconds 0.4]

Each request runs the whole middleware in-process (facts, directive endpoints, the decision,
the block log, the response) over a synthetic scope, with a no-op app behind it. A hostile
variant changes a few characters on every request, so no per-value cache hides its cost; the
normal request repeats, as a person's browser does. The table gives µs per request and the
ratio to the normal request of the same configuration (the target: none above ~10x).

Sizes: h11 (uvicorn's pure-Python parser) let a 100 KiB header through here and refused 1 MiB;
httptools (`uvicorn[standard]`) let 1 MiB through. `--size` is the size of each hostile value.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from collections.abc import Callable
from typing import Any

from scrapeshield import ScrapeShield, Settings
from scrapeshield.synthetic import synthetic_scope

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
BROWSER_HEADERS = [
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-GB,en;q=0.9"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("sec-ch-ua", '"Chromium";v="131", "Not_A Brand";v="24"'),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Linux"'),
    ("sec-fetch-site", "none"),
    ("sec-fetch-mode", "navigate"),
    ("sec-fetch-dest", "document"),
    ("sec-fetch-user", "?1"),
    ("upgrade-insecure-requests", "1"),
    ("cookie", "theme=dark; session=4f2a9c1e7b3d5a6f; _ga=GA1.1.123456789.1700000000"),
]
BIG = "1000000000/10 seconds;1000000000/hour"  # limits no benchmark reaches
PEER = "203.0.113.7"
PROXY = "10.0.0.1"


def fill(unit: str, size: int, sep: str = "") -> str:
    """`unit` repeated (joined by `sep`) to about `size` characters."""
    count = max(1, size // (len(unit) + len(sep)))
    return sep.join([unit] * count)[:size]


Variant = Callable[[int, int], dict[str, Any]]  # (size, i) -> scope


def request(
    *,
    path: str = "/artworks/7",
    ip: str = PEER,
    ua: str = CHROME,
    replace: dict[str, str] | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A Chrome navigation, with some headers replaced and others added."""
    replace = replace or {}
    headers = [(k, replace.pop(k, v)) for k, v in BROWSER_HEADERS]
    headers += list(replace.items()) + (extra or [])
    return synthetic_scope(path=path, ip=ip, user_agent=ua, headers=headers)


def tag(i: int) -> str:
    return f"{i:08x}"


VARIANTS: dict[str, tuple[str, Variant]] = {
    # name: (configuration, scope for (size, i))
    "normal browser request": ("direct", lambda n, i: request()),
    # For scale: a small request that is challenged (an invalid signature): what a challenge
    # page (signed, rendered) and its block-log line cost, whatever the request's size.
    "small request, challenged (reference)": (
        "direct",
        lambda n, i: request(
            extra=[
                ("signature-agent", '"https://chatgpt.com"'),
                ("signature-input", f'sig1=("@authority");created={i};tag="web-bot-auth"'),
                ("signature", "sig1=:AAAA:"),
            ]
        ),
    ),
    "Cookie: many small cookies": (
        "direct",
        lambda n, i: request(replace={"cookie": tag(i) + fill("c=v", n, "; ")}),
    ),
    "Cookie: small cookies, just under the cap": (
        "direct",
        lambda n, i: request(
            replace={"cookie": tag(i) + fill("c=v", min(n, 32 * 1024 - 64), "; ") + "; p=1"}
        ),
    ),
    "Cookie: one huge value": (
        "direct",
        lambda n, i: request(replace={"cookie": "big=" + tag(i) + "x" * n}),
    ),
    "Cookie: repeated header lines": (
        "direct",
        lambda n, i: request(extra=[("cookie", f"c{j}={tag(i)}") for j in range(n // 16)]),
    ),
    "User-Agent: huge Chrome": (
        "direct",
        lambda n, i: request(ua=CHROME + " " + tag(i) + "a" * n),
    ),
    "User-Agent: huge tokens": (
        "direct",
        lambda n, i: request(ua="Mozilla/5.0 " + tag(i) + fill("(x; y) z/1.0", n, " ")),
    ),
    "Accept-Language: huge": (
        "direct",
        lambda n, i: request(replace={"accept-language": tag(i) + fill("en-US;q=0.9", n, ",")}),
    ),
    "Accept: huge": (
        "direct",
        lambda n, i: request(replace={"accept": tag(i) + fill("text/html;q=0.9", n, ",")}),
    ),
    "Sec-CH-UA: huge": (
        "direct",
        lambda n, i: request(replace={"sec-ch-ua": tag(i) + fill('"B";v="1"', n, ", ")}),
    ),
    "Signature-*: huge, known agent": (
        "direct",
        lambda n, i: request(
            extra=[
                ("signature-agent", '"https://chatgpt.com"'),
                ("signature-input", "sig" + tag(i) + "a" * n),
                ("signature", "sig" + tag(i) + "a" * n),
            ]
        ),
    ),
    "Signature-*: huge, structured": (
        "direct",
        lambda n, i: request(
            extra=[
                ("signature-agent", '"https://chatgpt.com"'),
                (
                    "signature-input",
                    tag(i) + fill('s=("@authority" "@path");created=1;keyid="k"', n, ", "),
                ),
                ("signature", tag(i) + fill("s=:AAAA:", n, ", ")),
            ]
        ),
    ),
    "Signature-Agent: huge": (
        "direct",
        lambda n, i: request(
            extra=[
                ("signature-agent", '"https://' + tag(i) + "a" * n + '"'),
                ("signature-input", 'sig1=("@authority");created=1;tag="web-bot-auth"'),
                ("signature", "sig1=:AAAA:"),
            ]
        ),
    ),
    "many distinct headers": (
        "direct",
        lambda n, i: request(extra=[(f"x-h{j}", tag(i)) for j in range(n // 16)]),
    ),
    "path: huge": ("direct", lambda n, i: request(path="/artworks/" + tag(i) + "a" * n)),
    "path: huge, many segments": (
        "direct",
        lambda n, i: request(path="/" + tag(i) + fill("a/", n)),
    ),
    "query: huge": (
        "direct",
        lambda n, i: request(path=f"/artworks/7?{tag(i)}=" + fill("a=b", n, "&")),
    ),
    "Host: huge": ("direct", lambda n, i: request(extra=[("host", tag(i) + "h" * n)])),
    # Behind a trusted proxy: the client writes the left part of the forwarding header.
    "normal request via proxy (XFF)": (
        "xff",
        lambda n, i: request(ip=PROXY, extra=[("x-forwarded-for", PEER)]),
    ),
    "X-Forwarded-For: huge chain": (
        "xff",
        lambda n, i: request(
            ip=PROXY, extra=[("x-forwarded-for", tag(i) + fill("198.51.100.1", n, ", "))]
        ),
    ),
    "X-Forwarded-For: huge, proxies": (
        "xff",
        lambda n, i: request(
            ip=PROXY, extra=[("x-forwarded-for", fill(PROXY, n, ", ") + ", 10.0.0." + str(i % 9))]
        ),
    ),
    "X-Forwarded-For: repeated lines": (
        "xff",
        lambda n, i: request(
            ip=PROXY, extra=[("x-forwarded-for", f"198.51.{i}.{j % 250}") for j in range(n // 16)]
        ),
    ),
    "many headers, the proxy's XFF last": (
        "xff",
        lambda n, i: request(
            ip=PROXY,
            extra=[(f"x-h{j}", tag(i)) for j in range(n // 16)] + [("x-forwarded-for", PEER)],
        ),
    ),
    "normal request via proxy (Forwarded)": (
        "forwarded",
        lambda n, i: request(ip=PROXY, extra=[("forwarded", f"for={PEER};proto=https")]),
    ),
    "Forwarded: huge chain": (
        "forwarded",
        lambda n, i: request(
            ip=PROXY, extra=[("forwarded", tag(i) + fill("for=198.51.100.1;proto=https", n, ", "))]
        ),
    ),
}
BASELINE = {
    "direct": "normal browser request",
    "xff": "normal request via proxy (XFF)",
    "forwarded": "normal request via proxy (Forwarded)",
}


def settings_for(config: str) -> Settings:
    proxied: dict[str, Any] = {}
    if config != "direct":
        proxied = {
            "trusted_proxies": [PROXY],
            "client_ip_header": "forwarded" if config == "forwarded" else "x-forwarded-for",
        }
    return Settings(
        ratelimit={"groups": {"default": {"limits": BIG}, "images": {"limits": BIG}}},
        challenge={"secret_keys": ["benchmark-only-key-" + "0" * 32]},
        **proxied,
    )


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    return None


async def measure(middleware: ScrapeShield, scopes: list[dict[str, Any]], seconds: float) -> float:
    """Median µs per request over batches that together last about `seconds`."""
    for scope in scopes[:4]:  # warm caches that every request shares (parsers, compiled rules)
        await middleware(dict(scope), _receive, _send)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline or len(samples) < 5:
        start = time.perf_counter()
        for _ in range(10):
            await middleware(dict(scopes[i % len(scopes)]), _receive, _send)
            i += 1
        samples.append((time.perf_counter() - start) / 10)
    return statistics.median(samples) * 1e6


async def main(size: int, seconds: float, only: str | None, skip: str | None) -> None:
    quiet = logging.getLogger("scrapeshield")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False  # the block log's lines still get formatted, as in production
    shields = {c: ScrapeShield(_app, settings=settings_for(c)) for c in BASELINE}
    figures: dict[str, float] = {}
    print(f"hostile value size: {size} characters; µs per request (median of 10-request batches)")
    print(f"{'request':<40} {'µs':>10} {'ratio':>7}")
    for name, (config, make) in VARIANTS.items():
        baseline = name == BASELINE[config]
        if not baseline and (
            (only and only.lower() not in name.lower()) or (skip and skip.lower() in name.lower())
        ):
            continue
        scopes = [make(size, i) for i in range(16)]
        figures[name] = await measure(shields[config], scopes, seconds)
        ratio = figures[name] / figures[BASELINE[config]]
        flag = "  <-- over 10x" if ratio > 10 else ""
        print(f"{name:<40} {figures[name]:>10.1f} {ratio:>6.1f}x{flag}")
    for shield in shields.values():
        await shield.shield.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64 * 1024)
    parser.add_argument("--seconds", type=float, default=0.4, help="per variant")
    parser.add_argument("--only", default=None, help="only variants whose name contains this")
    parser.add_argument("--skip", default=None, help="not the variants whose name contains this")
    args = parser.parse_args()
    asyncio.run(main(args.size, args.seconds, args.only, args.skip))
