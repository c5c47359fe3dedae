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

from scrapeshield.fingerprint.catalogue_build import AI_ROBOTS_URL, build
from scrapeshield.fingerprint.ipranges import manifest, parse_ranges

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
    """Fetch everything; `mirror` replaces the public URLs by `<mirror>/robots.json` and
    `<mirror>/ip-ranges/<name>.json` (an internal mirror, or the tests' local server)."""
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
    return report
