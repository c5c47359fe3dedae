"""Fetch the public user-agent corpora of the labelled quality set into tests/data/ua/.

Uses the npm registry's ordinary client (`npm pack`) for two packages that ship UA lists:
  crawler-user-agents (MIT)  -> bots.tsv      (every example instance, with the list's tags)
  user-agents (BSD-2-Clause) -> browsers.txt  (distinct real-browser user agents it samples)
  top-user-agents (MIT)      -> browsers.txt  (the most common browser user agents, merged)
Each package's licence is copied next to the derived file; MANIFEST.toml records versions.

    .venv/bin/python scripts/fetch_ua_corpora.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from datetime import date
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "ua"
PACKAGES = {
    "crawler-user-agents": "1.60.0",
    "user-agents": "2.1.198",
    "top-user-agents": "2.1.138",
}


def fetch(name: str, version: str, into: Path) -> Path:
    subprocess.run(  # noqa: S603
        ["npm", "pack", f"{name}@{version}", "--silent"],  # noqa: S607
        cwd=into,
        check=True,
        capture_output=True,
    )
    target = into / name
    with tarfile.open(into / f"{name}-{version}.tgz") as tar:
        tar.extractall(target, filter="data")
    return target / "package"


def clean(ua: str) -> str:
    return " ".join(ua.split())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        crawlers = fetch("crawler-user-agents", PACKAGES["crawler-user-agents"], Path(tmp))
        entries = json.loads((crawlers / "crawler-user-agents.json").read_text("utf-8"))
        rows = sorted(
            {
                (clean(ua), ",".join(entry.get("tags", [])))
                for entry in entries
                for ua in entry.get("instances", [])
                if clean(ua)
            }
        )
        (OUT / "bots.tsv").write_text("".join(f"{ua}\t{tags}\n" for ua, tags in rows), "utf-8")
        shutil.copy(crawlers / "LICENSE", OUT / "LICENSE.crawler-user-agents")

        browsers_pkg = fetch("user-agents", PACKAGES["user-agents"], Path(tmp))
        samples = json.loads((browsers_pkg / "dist" / "user-agents.json").read_text("utf-8"))
        found = {clean(s["userAgent"]) for s in samples}
        shutil.copy(browsers_pkg / "LICENSE", OUT / "LICENSE.user-agents")
        top = fetch("top-user-agents", PACKAGES["top-user-agents"], Path(tmp))
        for name in ("index.json", "desktop.json", "mobile.json"):
            found |= {clean(ua) for ua in json.loads((top / "src" / name).read_text("utf-8"))}
        shutil.copy(top / "LICENSE.md", OUT / "LICENSE.top-user-agents")
        browsers = sorted(found - {""})
        (OUT / "browsers.txt").write_text("".join(f"{ua}\n" for ua in browsers), "utf-8")
    manifest = [f"# Fetched by scripts/fetch_ua_corpora.py on {date.today().isoformat()}"]
    for name, version in PACKAGES.items():
        manifest.append(f'[{name}]\nversion = "{version}"\nregistry = "npm"')
    (OUT / "MANIFEST.toml").write_text("\n".join(manifest) + "\n", "utf-8")
    print(f"{len(rows)} bot and {len(browsers)} browser user agents in {OUT}")


if __name__ == "__main__":
    main()
