"""What `explain` explains: a request from options, a curl command line, or a HAR entry.

Each source gives one `RequestSpec` (method, URL parts, headers in order); `explain` turns it into
the ASGI scope a server would build, percent-decoding the path as uvicorn and the others do.
"""

from __future__ import annotations

import argparse
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# `curl` sends these unless told otherwise (`curl -v` shows them); a version of Debian 12's.
CURL_USER_AGENT = "curl/7.88.1"
_CURL_NO_VALUE = frozenset(
    {"--compressed", "-s", "--silent", "-S", "--show-error", "-L", "--location", "-k",
     "--insecure", "-v", "--verbose", "-i", "--include", "-g", "--globoff", "--http1.1",
     "--http2", "-f", "--fail", "-O", "--remote-name", "-#", "--progress-bar"}
)  # fmt: skip
_CURL_WITH_VALUE = frozenset(
    {"-o", "--output", "-m", "--max-time", "--connect-timeout", "-u", "--user", "-x", "--proxy",
     "-w", "--write-out", "--retry"}
)  # fmt: skip


class InputError(ValueError):
    """A request that cannot be explained: the message says what was wrong (exit status 2)."""


@dataclass
class RequestSpec:
    method: str = "GET"
    scheme: str = "https"
    host: str | None = None
    path: str = "/"  # as sent, with its query: percent-encoded
    headers: list[tuple[str, str]] = field(default_factory=list)


def split_url(url: str) -> tuple[str, str | None, str]:
    """(scheme, host, path?query) of an absolute URL, or of a path."""
    if url.startswith("/"):
        return "https", None, url
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{url!r} is not an http(s) URL or a path")
    path = parts.path or "/"
    return parts.scheme, parts.netloc, path + (f"?{parts.query}" if parts.query else "")


def from_curl(command: str) -> RequestSpec:
    """A `curl ...` command line (as a browser's "Copy as cURL" gives it): -H, -A, -e, -b, -X,
    -I and the URL; curl's own User-Agent and Accept when the command sets none."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise InputError(f"--from-curl: cannot split the command ({exc})") from None
    if words and Path(words[0]).name == "curl":
        words = words[1:]
    spec, url, head, compressed = RequestSpec(), None, False, False
    headers: list[tuple[str, str]] = []
    it = iter(words)
    for word in it:
        option, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        value = inline if eq else None

        def take(option: str = option, value: str | None = value) -> str:
            found = value if value is not None else next(it, None)
            if found is None:
                raise InputError(f"--from-curl: {option} needs a value")
            return found

        if option in ("-H", "--header"):
            name, sep, text = take().partition(":")
            if not sep or not name.strip():
                raise InputError(f"--from-curl: header {name!r} is not 'Name: value'")
            headers.append((name.strip(), text.strip()))
        elif option in ("-A", "--user-agent"):
            headers.append(("User-Agent", take()))
        elif option in ("-e", "--referer"):
            headers.append(("Referer", take()))
        elif option in ("-b", "--cookie"):
            headers.append(("Cookie", take()))
        elif option in ("-X", "--request"):
            spec.method = take().upper()
        elif option in ("-I", "--head"):
            head = True
        elif option == "--compressed":
            compressed = True
        elif option == "--url":
            url = take()
        elif option in _CURL_WITH_VALUE:
            take()
        elif option in _CURL_NO_VALUE or (option.startswith("-") and len(option) > 1):
            if option not in _CURL_NO_VALUE:
                raise InputError(f"--from-curl: option {option} is not understood")
        elif url is None:
            url = word
        else:
            raise InputError(f"--from-curl: more than one URL ({url!r}, {word!r})")
    if url is None:
        raise InputError("--from-curl: no URL in the command")
    if head:
        spec.method = "HEAD"
    spec.scheme, spec.host, spec.path = split_url(url)
    names = {name.lower() for name, _ in headers}
    if "user-agent" not in names:
        headers.insert(0, ("User-Agent", CURL_USER_AGENT))
    if "accept" not in names:
        headers.append(("Accept", "*/*"))
    if compressed and "accept-encoding" not in names:
        headers.append(("Accept-Encoding", "deflate, gzip, br, zstd"))
    spec.headers = headers
    return spec


def from_har(path: str, entry: int) -> RequestSpec:
    """Entry `entry` (from 0) of a HAR file (a browser's "Save all as HAR"): its method, URL
    and headers in their recorded order; HTTP/2 pseudo-headers (`:authority`...) become Host."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = data["log"]["entries"]
    except OSError as exc:
        raise InputError(f"--from-har: cannot read {path!r} ({exc})") from None
    except (ValueError, KeyError, TypeError):
        raise InputError(f"--from-har: {path!r} is not a HAR file (no log.entries)") from None
    if not isinstance(entries, list) or not -len(entries) <= entry < len(entries):
        raise InputError(f"--from-har: no entry {entry} ({len(entries)} entries, from 0)")
    try:
        request = entries[entry]["request"]
        spec = RequestSpec(method=str(request.get("method", "GET")).upper())
        spec.scheme, spec.host, spec.path = split_url(str(request["url"]))
        for header in request.get("headers", []):
            name, value = str(header["name"]), str(header["value"])
            if name.lower() == ":authority":
                spec.headers.append(("Host", value))
            elif not name.startswith(":"):
                spec.headers.append((name, value))
    except (KeyError, TypeError, AttributeError):
        raise InputError(f"--from-har: entry {entry} has no request with a url") from None
    return spec


def load_app(target: str) -> Any:
    """`module:attribute` (as uvicorn takes it), imported from the current directory too."""
    import importlib
    import sys

    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise InputError(f"--app {target!r} is not 'module:attribute' (e.g. 'mysite.main:app')")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        app: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            app = getattr(app, part)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"--app {target!r}: {exc}") from None
    return app


def add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from-curl", metavar="'curl ...'", help="explain the request of a curl command line"
    )
    parser.add_argument("--from-har", metavar="FILE", help="explain a request of a HAR file")
    parser.add_argument(
        "--entry", type=int, default=0, metavar="N", help="the HAR entry (from 0; default 0)"
    )
    parser.add_argument(
        "--browser-headers",
        action="store_true",
        help="add the headers a browser of the --ua's family sends with a navigation",
    )
    parser.add_argument(
        "--app", metavar="MODULE:ATTR", help="the Starlette/FastAPI app, to read its route marks"
    )
