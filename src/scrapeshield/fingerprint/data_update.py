"""Refresh the catalogue and the IP-range lists from their public URLs into a data directory.

Never writes into the installed package: the target is `fingerprint.data_dir` (or an explicit
directory). Each file is fetched, parsed and validated before it atomically replaces the old
one, so a failed or garbled download leaves the previous data in place. Detectors read the
directory at start-up: restart (or redeploy) the app to pick up new data.
"""

from __future__ import annotations

import os
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from scrapeshield.fingerprint.catalogue_build import AI_ROBOTS_URL, build
from scrapeshield.fingerprint.datacenter_ranges import compact, parse_provider
from scrapeshield.fingerprint.datacenter_ranges import manifest as datacenter_manifest
from scrapeshield.fingerprint.ipranges import Network, manifest, parse_ranges

DATA = resources.files("scrapeshield.fingerprint.data")  # the packaged catalogue and ranges

MAX_BYTES = 20 * 1024 * 1024
Fetch = Callable[[str], str]


def http_fetch(url: str, *, timeout: float = 20.0) -> str:
    """GET a text document (bounded size and time)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"refusing to fetch {url!r}: not an http(s) URL")
    request = urllib.request.Request(url, headers={"User-Agent": "scrapeshield-update-data"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body: bytes = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ValueError(f"{url}: larger than {MAX_BYTES} bytes")
    return body.decode("utf-8")


@dataclass
class UpdateReport:
    written: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def update_data(
    data_dir: str | Path, *, mirror: str | None = None, fetch: Fetch = http_fetch
) -> UpdateReport:
    """Fetch everything; `mirror` replaces the public URLs by `<mirror>/robots.json`,
    `<mirror>/ip-ranges/<name>.json` and `<mirror>/datacenter/<name>.<json|csv>` (an internal
    mirror, or the tests' local server)."""
    target = Path(data_dir)
    report = UpdateReport()
    today = datetime.now(UTC).date().isoformat()
    robots_url = f"{mirror.rstrip('/')}/robots.json" if mirror else AI_ROBOTS_URL
    try:
        manual = DATA.joinpath("agents_manual.toml").read_text()
        text = build(fetch(robots_url), manual, commit=f"fetched from {robots_url}", date=today)
        _write_atomic(target / "agents.toml", text)
        report.written.append("agents.toml")
    except Exception as exc:  # every failure is reported; the previous file stays
        report.failed.append(f"agents.toml: {exc}")
    for name, entry in manifest().items():
        if not isinstance(entry, dict) or not entry.get("url"):
            continue
        url = f"{mirror.rstrip('/')}/ip-ranges/{name}.json" if mirror else str(entry["url"])
        try:
            text = fetch(url)
            if not parse_ranges(text):
                raise ValueError("no IP ranges found in the response")
            _write_atomic(target / "ip-ranges" / f"{name}.json", text)
            report.written.append(f"ip-ranges/{name}.json")
        except Exception as exc:
            report.failed.append(f"ip-ranges/{name}.json: {exc}")
    _update_datacenter(target, mirror, fetch, today, report)
    return report


def _source_url(mirror: str | None, name: str, entry: dict[str, Any]) -> str:
    ext = "csv" if entry.get("format") == "csv" else "json"
    return f"{mirror.rstrip('/')}/datacenter/{name}.{ext}" if mirror else str(entry["url"])


def _parsed(text: str, entry: dict[str, Any]) -> list[Network]:
    """The entry's networks, or ValueError saying what was wrong with the document."""
    fmt = str(entry.get("format", "csv"))
    try:
        networks = parse_provider(text, fmt, entry.get("subset", ()))
    except ValueError as exc:  # json.JSONDecodeError is one
        raise ValueError(f"not a {fmt} range document ({exc})") from None
    if not networks:
        raise ValueError(f"no IP ranges found in the {fmt} document")
    return networks


def _update_datacenter(
    target: Path, mirror: str | None, fetch: Fetch, today: str, report: UpdateReport
) -> None:
    """Cloud providers' ranges, compacted, minus iCloud Private Relay egress. Without the
    exclusion list no provider file is replaced (people's relay addresses could slip in)."""
    data = datacenter_manifest()
    exclude: list[Network] = []
    for name, entry in data.get("exclude", {}).items():
        url = _source_url(mirror, name, entry)
        try:
            exclude.extend(_parsed(fetch(url), entry))
        except Exception as exc:
            report.failed.append(f"datacenter: exclusion list {name} from {url}: {exc}")
            return
    for name, entry in data.get("provider", {}).items():
        if not entry.get("url"):
            continue
        url = _source_url(mirror, name, entry)
        try:
            lines = compact(_parsed(fetch(url), entry), exclude)
            head = f"# {entry.get('label', name)}: fetched from {url} on {today}\n"
            _write_atomic(target / "datacenter" / f"{name}.txt", head + "\n".join(lines) + "\n")
            report.written.append(f"datacenter/{name}.txt")
        except Exception as exc:
            report.failed.append(f"datacenter/{name}.txt from {url}: {exc}")
