"""A person's traffic for wrk: returning visitors browsing artwork pages with their assets.

.venv/bin/python -m benchmarks.person [--seconds 4] [--persons 32] [--store memory|redis]

`benchmarks.run`'s other rows load one page from one client with no cookie and no CSS, JS or
image: to scrapeshield that client is not a person (a visitor token issued on every page,
`behaviour/no-assets` after 30 pages). This mix is what a site mostly serves instead. Each
person has its own address (X-Forwarded-For, each in its own /24, the rate limiter's and the
leases' network; the benchmark apps trust 127.0.0.1 as a proxy when `BENCH_PERSON=on`), its own
visitor cookie (from a first page the app served it before the run), and views artwork pages in
a random order (not by id), each page followed by its stylesheet, script and original, with
Chromium's header sets for each (fingerprint/data/header_captures.toml). Each page is reached
from the gallery index (Referer: the index), so two pages of one person differ only by path.
People speak one of 8 languages (identity: more than 16 fresh visitors of one header
fingerprint are a rotating pool) and view 16 artworks each, the file then starting again (more
than 20 distinct originals in an hour puts identity's budgets past half: no lease).

wrk's Lua (person.lua) sends the requests of a file this module writes, in order, one after the
other: the persons' requests are interleaved round-robin, so with as many persons as connections
each person has about one request in flight. wrk exposes no connection to Lua, so a person is
not tied to one connection (a server does not see connections as clients either).

Run as a module: the check the rows rest on. Serves the shipped app (leases off, then on) with
a tally of every decision, loads it with the mix, and prints the decisions by rule, the signals
by name (a person's mix must have none) and how many requests were leased.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from scrapeshield.demo.art import ARTWORK_COUNT

LUA = Path(__file__).with_name("person.lua")
COOKIE = "__ss_vid"
PLACEHOLDER = f"{COOKIE}={'x' * 96}"  # the bare app's cookie: a token's length, no token
# A returning visitor's token: issued two days ago, so older than today and than every window
# of identity's (the rotating pool's 10 minutes, the newcomers' hour, a token's first day).
RETURNING_AGE = 2 * 86_400.0
# The paced mix's new visitors (tokens from a first page just before the run): a quarter. A
# guess, written down: an art site's requests mostly come from people who come back (a regular
# views many pages a visit), and a new visitor is "new" to identity only on its first day.
NEW_SHARE = 0.25
# A person's distinct artworks: under half of identity's budgets (40 originals an hour per visitor
# and per network; past half a page gets no lease); wrk starts the file again at the top when it
# runs out (the same pages again).
PAGES_EACH = 16
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
CH_UA = '"Not:A-Brand";v="8", "Chromium";v="156", "Google Chrome";v="156"'
# Header fingerprints (identity: more than 16 young visitors of one fingerprint are a rotating
# pool): people differ by language, so a person's Accept-Language is one of these.
LANGUAGES = (
    "en-US,en;q=0.9",
    "en-GB,en;q=0.9",
    "de-DE,de;q=0.9,en;q=0.8",
    "fr-FR,fr;q=0.9,en;q=0.8",
    "ja-JP,ja;q=0.9,en;q=0.8",
    "es-ES,es;q=0.9,en;q=0.8",
    "pt-BR,pt;q=0.9,en;q=0.8",
    "ko-KR,ko;q=0.9,en;q=0.8",
)
NAVIGATE_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
# Subresources: (path, Sec-Fetch-Dest, Accept) in the order a page's HTML names them.
ASSETS = (
    ("/static/gallery.css", "style", "text/css,*/*;q=0.1"),
    ("/static/gallery.js", "script", "*/*"),
    (
        "/images/{id}.png",
        "image",
        "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    ),
)


def address(person: int) -> str:
    """A person's address: each in its own /24 (leases and network limits are per /24)."""
    return f"10.{person // 250 + 1}.{person % 250}.7"


def language(person: int) -> list[tuple[str, str]]:
    return [
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("accept-language", LANGUAGES[person % len(LANGUAGES)]),
    ]


def page(host: str, path: str, referer: str | None, person: int) -> list[tuple[str, str]]:
    """A link click (or, with no referer, a typed address) in Chromium, header for header."""
    headers = [
        ("host", host),
        ("sec-ch-ua", CH_UA),
        ("sec-ch-ua-mobile", "?0"),
        ("sec-ch-ua-platform", '"Linux"'),
        ("upgrade-insecure-requests", "1"),
        ("user-agent", UA),
        ("accept", NAVIGATE_ACCEPT),
        ("sec-fetch-site", "same-origin" if referer else "none"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-user", "?1"),
        ("sec-fetch-dest", "document"),
    ]
    return headers + ([("referer", referer)] if referer else []) + language(person)


def subresource(
    host: str, dest: str, accept: str, referer: str, person: int
) -> list[tuple[str, str]]:
    return [
        ("host", host),
        ("sec-ch-ua-platform", '"Linux"'),
        ("user-agent", UA),
        ("sec-ch-ua", CH_UA),
        ("sec-ch-ua-mobile", "?0"),
        ("accept", accept),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-mode", "no-cors"),
        ("sec-fetch-dest", dest),
        ("referer", referer),
        *language(person),
    ]


def raw(path: str, headers: list[tuple[str, str]], person: int, cookie: str | None) -> str:
    """One HTTP/1.1 request as wrk sends it: the cookie last, then the proxy's header."""
    extra = ([("cookie", cookie)] if cookie else []) + [("x-forwarded-for", address(person))]
    lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers + extra)]
    return "\r\n".join(lines) + "\r\n\r\n"


def views(person: int, host: str, cookie: str, thumbs: int = 0) -> Iterator[str]:
    """A person's page views in a random order, each with its stylesheet, script and original,
    then `thumbs` thumbnails of the artworks that follow (an art site's "more like this")."""
    base = f"http://{host}"
    ids = random.Random(person).sample(range(1, ARTWORK_COUNT + 1), PAGES_EACH)
    for artwork_id in ids:
        path = f"/artworks/{artwork_id}"
        yield raw(path, page(host, path, base + "/", person), person, cookie)
        for asset, dest, accept in ASSETS:
            headers = subresource(host, dest, accept, base + path, person)
            yield raw(asset.format(id=artwork_id), headers, person, cookie)
        for n in range(thumbs):
            thumb = f"/thumbs/{(artwork_id + n) % ARTWORK_COUNT + 1}.png"
            headers = subresource(host, "image", ASSETS[-1][2], base + path, person)
            yield raw(thumb, headers, person, cookie)


def schedule(host: str, cookies: list[str], paced: bool = False, thumbs: int = 0) -> str:
    """Every person's requests, interleaved round-robin: the file person.lua sends in order.
    `paced`: page loads interleaved instead (each person's page with its assets together, the
    people taking turns), so with many people each person's page loads come seconds apart.
    `thumbs`: thumbnails a page load (`views`)."""
    streams = [views(person, host, cookie, thumbs) for person, cookie in enumerate(cookies)]
    if paced:
        size = 1 + len(ASSETS) + thumbs
        loads = [zip(*[stream] * size, strict=True) for stream in streams]
        return "".join("".join(load) for step in zip(*loads, strict=True) for load in step)
    return "".join(request for step in zip(*streams, strict=True) for request in step)


def visitor_cookies(base: str, persons: int, new: float = 1.0) -> list[str]:
    """Each person's visitor cookie: a new visitor's from a first page the app serves it (a
    typed address), a returning one's (`new`: the share of new ones) as if the app had issued
    it RETURNING_AGE ago. An app that issues none (the bare gallery) gets a placeholder of a
    token's length, so both apps read the same bytes."""
    first = {p: first_page(base, p) for p in range(persons) if is_new(p, new)}
    if not first:  # no new visitor: one first page says whether the app issues tokens
        first[persons] = first_page(base, persons)  # (an address no person of the mix has)
    if not any(first.values()):
        return [PLACEHOLDER] * persons
    returning = returning_cookies() if len(first) < persons else None
    return [
        first[p] or PLACEHOLDER if returning is None or p in first else returning(p)
        for p in range(persons)
    ]


def add_new_share(parser: argparse.ArgumentParser) -> None:
    """`--paced-new FRACTION`: the paced mix's share of new visitors (NEW_SHARE)."""

    def share(text: str) -> float:
        value = float(text)
        if not 0.0 <= value <= 1.0:
            raise argparse.ArgumentTypeError("a share: 0 to 1")
        return value

    parser.add_argument(
        "--paced-new",
        type=share,
        default=NEW_SHARE,
        metavar="FRACTION",
        help=f"the paced mix's share of new visitors ({NEW_SHARE:g}; the rest returning)",
    )


def is_new(person: int, new: float) -> bool:
    """Whether a person is a new visitor: a `new` share of the people, spread evenly."""
    return int((person + 1) * new) > int(person * new)


def first_page(base: str, person: int) -> str | None:
    """The visitor cookie the app issues with a person's first page, if any."""
    host = base.removeprefix("http://")
    headers = dict(page(host, "/artworks/1", None, person))
    headers["x-forwarded-for"] = address(person)
    request = urllib.request.Request(base + "/artworks/1", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        issued = [
            c.split(";", 1)[0]
            for c in response.headers.get_all("set-cookie") or []
            if c.startswith(COOKIE + "=")
        ]
    return issued[0] if issued else None


def returning_cookies() -> Callable[[int], str]:
    """A returning person's cookie: a token the benchmark apps' identity (their key, their
    binding: the person's network and user agent) issued RETURNING_AGE ago."""
    from benchmarks.apps import bench_settings
    from scrapeshield.identity.detector import IdentityDetector
    from scrapeshield.shield import Shield, synthetic_scope
    from scrapeshield.store import MemoryStore

    shield = Shield(bench_settings(), store=MemoryStore())  # (only its tokens are used)
    tokens = next(d for d in shield.detectors if isinstance(d, IdentityDetector)).tokens
    issued = time.time() - RETURNING_AGE

    def cookie(person: int) -> str:
        headers = page("localhost", "/artworks/1", None, person)
        facts = shield.facts(
            synthetic_scope(path="/artworks/1", ip=address(person), headers=headers)
        )
        return tokens.issue(facts, issued=issued)[1].decode("latin-1").split(";", 1)[0]

    return cookie


@contextmanager
def requests_file(
    base: str, persons: int, paced: bool = False, new: float = 1.0, thumbs: int = 0
) -> Iterator[Path]:
    """The mix for the server at `base` (its own cookies; `new`: the share of new visitors;
    `thumbs`: thumbnails a page load), in a temporary file."""
    cookies = visitor_cookies(base, persons, new)
    text = schedule(base.removeprefix("http://"), cookies, paced, thumbs)
    with tempfile.TemporaryDirectory(prefix="person-") as folder:
        path = Path(folder, "requests.http")
        path.write_text(text, encoding="latin-1")
        yield path


def wrk_command(base: str, requests: Path, seconds: float, connections: int) -> list[str]:
    return [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency",
        "-s", str(LUA), base, "--", str(requests),
    ]  # fmt: skip


def check(options: argparse.Namespace) -> None:
    """The shipped app, leases off then on, with every decision tallied (apps.BENCH_STATS)."""
    from benchmarks.bench_ratelimit import redis_server, uvicorn_process

    with redis_server() as url:
        store = url if options.store == "redis" else "memory://"
        for leases in ("false", "true"):
            with tempfile.TemporaryDirectory(prefix="person-stats-") as folder:
                stats = Path(folder, "stats.json")
                env = {
                    "BENCH_STORE_URL": store,
                    "BENCH_PERSON": "on",
                    "BENCH_STATS": str(stats),
                    "BENCH_TALLY": "on",
                    "SCRAPESHIELD_LEASE__ENABLED": leases,
                }
                with (
                    uvicorn_process("protected", env) as (base, _),
                    requests_file(base, options.persons) as requests,
                ):
                    command = wrk_command(base, requests, options.seconds, options.persons)
                    out = subprocess.run(command, capture_output=True, text=True, check=True)
                summary = [line for line in out.stdout.splitlines() if "requests in" in line]
                figures = json.loads(stats.read_text())
            print(f"\n{options.store}, leases {leases}: {summary[0].strip()} (+{options.persons})")
            print(json.dumps(figures, indent=1, sort_keys=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--persons", type=int, default=32, help="also wrk's connections")
    parser.add_argument("--store", choices=("memory", "redis"), default="memory")
    check(parser.parse_args())


if __name__ == "__main__":
    main()
