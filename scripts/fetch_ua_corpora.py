"""Build the labelled user-agent corpus (tests/data/ua/corpus.tsv.gz) from public packages.

Every source is a registry package fetched with its ordinary client, except uap-core, whose
test resources no registry package ships (npm `uap-core` carries regexes.yaml only): pass a
checkout of github.com/ua-parser/uap-core with --uap-core DIR, or the rows already committed
for it are kept.

  npm  crawler-user-agents (MIT)      bots: every example instance, with the list's tags
  npm  user-agents (BSD-2-Clause)     browsers: the distinct agents of every 2.x release (each
                                      release is one day's sample of real traffic)
  npm  top-user-agents (MIT)          browsers: the most common agents
  PyPI device_detector (Matomo fixtures, LGPL-3.0-or-later upstream)
                                      browsers (client type browser; "mobile app" agents in
                                      Mozilla/ form as in-app browsers), bots (bots.yml, client
                                      type library), apps (other client types)
  PyPI user-agents (MIT)              the agents of its tests (bot when the name says so)
  git  uap-core (Apache-2.0)          tests/test_device.yaml (device family Spider = bot; an
                                      agent in Mozilla/ or Opera/ form = browser; else app),
                                      firefox and opera-mini string lists (browsers)

Row: label (browser | bot | app), source, tags (comma-separated), user agent. An agent that
sources label differently keeps every label; tests/ua_labelled.py resolves conflicts.

    .venv/bin/python scripts/fetch_ua_corpora.py [--uap-core DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "ua"
CORPUS = OUT / "corpus.tsv.gz"
NPM = {"crawler-user-agents": ("1.60.0", "MIT"), "top-user-agents": ("2.1.138", "MIT")}
_VERSIONS = (  # every 2.x release of npm user-agents
    "2.1.1 2.1.8 2.1.12 2.1.17 2.1.25 2.1.27 2.1.37 2.1.51 2.1.58 2.1.60 2.1.75 2.1.88 "
    "2.1.100 2.1.108 2.1.124 2.1.125 2.1.136 2.1.137 2.1.144 2.1.153 2.1.155 2.1.158 2.1.161 "
    "2.1.163 2.1.167 2.1.171 2.1.172 2.1.173 2.1.174 2.1.175 2.1.176 2.1.177 2.1.178 2.1.180 "
    "2.1.181 2.1.182 2.1.184 2.1.185 2.1.186 2.1.188 2.1.189 2.1.190 2.1.191 2.1.192 2.1.193 "
    "2.1.195 2.1.196 2.1.197 2.1.198"
)
USER_AGENTS_VERSIONS = tuple(_VERSIONS.split())
PYPI = {"device_detector": "6.5.1", "user-agents": "2.2.0"}
UAP_CORE_COMMIT = "e3c5e634bee0b14f1a129c991483910739ad9f6c"
_BROWSER_FORM = ("Mozilla/", "Opera/")
_AI_CATEGORIES = {"AI Data Scraper", "AI Search Crawler", "AI Assistant", "AI Agent"}

Row = tuple[str, str, str, str]


def clean(ua: object) -> str:
    return " ".join(str(ua or "").split())


def npm_pack(name: str, version: str, into: Path) -> Path:
    subprocess.run(  # noqa: S603
        ["npm", "pack", f"{name}@{version}", "--silent"],  # noqa: S607
        cwd=into,
        check=True,
        capture_output=True,
    )
    target = into / f"{name}-{version}"
    with tarfile.open(into / f"{name}-{version}.tgz") as tar:
        tar.extractall(target, filter="data")
    return target / "package"


def pypi_sdist(name: str, version: str, into: Path) -> Path:
    subprocess.run(  # noqa: S603
        ["pip", "download", "--no-deps", "--no-binary", ":all:", f"{name}=={version}", "-d", into],  # noqa: S607
        check=True,
        capture_output=True,
    )
    archive = next(into.glob(f"{name.replace('-', '[-_]')}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / archive.name.removesuffix(".tar.gz")


def crawler_user_agents(tmp: Path) -> Iterator[Row]:
    pkg = npm_pack("crawler-user-agents", NPM["crawler-user-agents"][0], tmp)
    shutil.copy(pkg / "LICENSE", OUT / "LICENSE.crawler-user-agents")
    for entry in json.loads((pkg / "crawler-user-agents.json").read_text("utf-8")):
        for ua in entry.get("instances", []):
            yield "bot", "crawler-user-agents", ",".join(entry.get("tags", [])), clean(ua)


def user_agents_npm(tmp: Path) -> Iterator[Row]:
    for version in USER_AGENTS_VERSIONS:
        pkg = npm_pack("user-agents", version, tmp)
        for sample in json.loads((pkg / "dist" / "user-agents.json").read_text("utf-8")):
            yield (
                "browser",
                "user-agents",
                sample.get("deviceCategory", ""),
                clean(sample["userAgent"]),
            )
    shutil.copy(pkg / "LICENSE", OUT / "LICENSE.user-agents")


def top_user_agents(tmp: Path) -> Iterator[Row]:
    pkg = npm_pack("top-user-agents", NPM["top-user-agents"][0], tmp)
    shutil.copy(pkg / "LICENSE.md", OUT / "LICENSE.top-user-agents")
    for name in ("index.json", "desktop.json", "mobile.json"):
        for ua in json.loads((pkg / "src" / name).read_text("utf-8")):
            yield "browser", "top-user-agents", name.removesuffix(".json"), clean(ua)


def _load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def matomo(tmp: Path) -> Iterator[Row]:
    root = pypi_sdist("device_detector", PYPI["device_detector"], tmp)
    fixtures = root / "device_detector" / "tests" / "fixtures" / "upstream"
    for path in sorted(fixtures.glob("*.yml")):
        cases = _load_yaml(path)
        for case in cases if isinstance(cases, list) else []:
            ua = clean(case.get("user_agent"))
            if "bot" in case:
                bot = case["bot"] or {}
                category = str(bot.get("category") or "")
                tags = ["ai-crawler"] if category in _AI_CATEGORIES else []
                tags += [f"matomo:{category or 'none'}", f"name:{bot.get('name', '')}"]
                yield "bot", "matomo", ",".join(t.replace(",", " ") for t in tags), ua
                continue
            client = case.get("client") or {}
            kind = str(client.get("type") or "none")
            device = str((case.get("device") or {}).get("type") or "")
            tags = ",".join(t for t in (f"matomo:{kind}", device) if t)
            if kind == "browser":
                yield "browser", "matomo", tags, ua
            elif kind == "library":
                yield "bot", "matomo", tags + ",http-library", ua
            elif kind == "mobile app" and ua.startswith(_BROWSER_FORM):
                yield "browser", "matomo", tags + ",in-app", ua
            else:
                yield "app", "matomo", tags, ua


def user_agents_pypi(tmp: Path) -> Iterator[Row]:
    root = pypi_sdist("user-agents", PYPI["user-agents"], tmp)
    shutil.copy(root / "LICENSE.txt", OUT / "LICENSE.user-agents-python")
    text = (root / "user_agents" / "tests.py").read_text("utf-8")
    for name, ua in re.findall(r"^(\w+)_ua_string = '([^']+)'", text, re.M):
        label = "bot" if name.endswith("bot") else "app" if name == "thunderbird" else "browser"
        yield label, "user-agents-python", name, clean(ua)


def uap_core(checkout: Path) -> Iterator[Row]:
    shutil.copy(checkout / "LICENSE", OUT / "LICENSE.uap-core")
    for case in _load_yaml(checkout / "tests" / "test_device.yaml")["test_cases"]:
        ua = clean(case["user_agent_string"])
        family = str(case.get("family") or "")
        label = (
            "bot" if family == "Spider" else "browser" if ua.startswith(_BROWSER_FORM) else "app"
        )
        yield label, "uap-core", f"device:{family}".replace(",", " "), ua
    for name in ("firefox_user_agent_strings.yaml", "opera_mini_user_agent_strings.yaml"):
        for case in _load_yaml(checkout / "test_resources" / name)["test_cases"]:
            yield "browser", "uap-core", name.split("_")[0], clean(case["user_agent_string"])


def committed(source: str) -> Iterator[Row]:
    if CORPUS.is_file():
        with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
            for line in f:
                label, src, tags, ua = line.rstrip("\n").split("\t", 3)
                if src == source:
                    yield label, src, tags, ua


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uap-core", type=Path, help=f"uap-core checkout (@ {UAP_CORE_COMMIT})")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows: set[Row] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for source in (
            crawler_user_agents,
            user_agents_npm,
            top_user_agents,
            matomo,
            user_agents_pypi,
        ):
            sub = Path(tmp) / source.__name__
            sub.mkdir()
            rows.update(source(sub))
    rows.update(uap_core(args.uap_core) if args.uap_core else committed("uap-core"))
    # One row per (label, source, agent): the same agent seen on many days is one sample.
    unique: dict[tuple[str, str, str], str] = {}
    for label, source, tags, ua in sorted(rows):
        if ua and "\t" not in ua:
            unique.setdefault((label, source, ua), tags)
    lines = [f"{label}\t{source}\t{tags}\t{ua}\n" for (label, source, ua), tags in unique.items()]
    with open(CORPUS, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write("".join(sorted(lines)).encode("utf-8"))
    manifest = [f"# Fetched by scripts/fetch_ua_corpora.py on {date.today().isoformat()}"]
    for name, (version, licence) in NPM.items():
        manifest.append(f'[{name}]\nregistry = "npm"\nversion = "{version}"\nlicense = "{licence}"')
    manifest.append(
        '[user-agents]\nregistry = "npm"\nlicense = "BSD-2-Clause"\n'
        f"versions = {json.dumps(USER_AGENTS_VERSIONS)}"
    )
    manifest.append(
        f'[device_detector]\nregistry = "PyPI"\nversion = "{PYPI["device_detector"]}"\n'
        'license = "LGPL-3.0-or-later (Matomo fixtures; see LICENSE.device-detector)"'
    )
    manifest.append(
        f'[user-agents-python]\nregistry = "PyPI"\nversion = "{PYPI["user-agents"]}"\n'
        'license = "MIT"'
    )
    manifest.append(
        f'[uap-core]\nsource = "github.com/ua-parser/uap-core"\ncommit = "{UAP_CORE_COMMIT}"\n'
        'license = "Apache-2.0"'
    )
    (OUT / "MANIFEST.toml").write_text("\n".join(manifest) + "\n", "utf-8")
    counts: dict[str, int] = {}
    for label, _, _ in unique:
        counts[label] = counts.get(label, 0) + 1
    print(f"{len(lines)} rows in {CORPUS}: {counts}")


if __name__ == "__main__":
    main()
