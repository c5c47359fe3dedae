"""User-agent test fixtures that no registry package ships, read from git repositories.

Each source is pinned to a commit and read with `git show COMMIT:path` from a clone or a bare
mirror passed as `--git NAME=DIR` (scripts/fetch_ua_corpora.py); a source not passed keeps the
rows already committed for it. Labels follow each project's own annotation, never ours:

  uap-core (Apache-2.0)       tests/test_device.yaml: device family Spider = bot, an agent in
                              Mozilla/ or Opera/ form = browser, else app; the Firefox and
                              Opera Mini string lists = browsers
  browscap (MIT)              tests/issues/*.php: Crawler true, or Browser_Type Bot,
                              Bot/Crawler, Offline Browser or Tool = bot; Browser_Type
                              Browser = browser; any other type (Application, Email Client,
                              Multimedia Player, Feed Reader, unknown) = app
  whichbrowser (MIT)          tests/data/**/*.yaml: device type bot = bot; browser type
                              browser = browser; else app
  yauaa (Apache-2.0)          analyzer's UserAgents/*.yaml tests: AgentClass Robot, Robot
                              Mobile, Cloud Application, Testclient or a robot DeviceClass =
                              bot; AgentClass Browser or Browser Webview = browser; else app.
                              Left out: AgentClass Hacker and the Hackers-* and
                              BrokenUseragents* files (injection payloads and deliberately
                              mangled strings: attack input for the parser, not clients)
  isbot (Unlicense)           fixtures/crawlers.yml = bots; fixtures/browsers.yml (isbot's
                              "not a bot" list) = bot in its groups named "... bots" (bots
                              isbot chooses not to flag), else browser in Mozilla/ or Opera/
                              form, else app

Development-only sources (tests/ua_corpus.DEV_ONLY: added in round six, 2026-12-04; an agent
only they list is in the `dev-new` pool, and their rows for an agent other sources list are
not read, so the eval half keeps its agents and labels):

  woothee (Apache-2.0)        testsets/*.yaml: category crawler, or name "HTTP Library" (an
                              HTTP client, as Matomo's client type library) = bot; category
                              pc, smartphone, mobilephone or appliance = browser; else (misc,
                              UNKNOWN: feed readers, Google Desktop) app
  bowser (MIT)                test/acceptance/useragentstrings.yml: platform type bot = bot;
                              else browser in Mozilla/ or Opera/ form, else app
  mobile-detect (MIT)         tests/providers/vendors/*.php: its group "Bot" (or an entry
                              marked isBot, even commented out) = bot; else browser in
                              Mozilla/ or Opera/ form, else app

Added in round nine (2026-12-05), development-only as well:

  fnando-browser (MIT)        the Ruby gem `browser`'s test/ua_bots.yml and
                              test/ua_search_engines.yml = bot; test/ua.yml (the browsers,
                              apps and devices it parses) = browser in Mozilla/ or Opera/
                              form, else app
  ua-parser-js (MIT, 1.0.41;  test/{browser,device,engine,os,cpu}-test.json = browser in
  2.x is AGPL: not used)      Mozilla/ or Opera/ form, else app; mediaplayer-test.json = app
                              (1.x has no bot type: it gives browsers only)
  browser-php (MIT)           cbschuld/Browser.php's tests/lists/*.txt (tab-separated: agent,
                              type, browser...): type Browser = browser; else (Console) app.
                              Left out: 23 lines of opera.txt that are a web page's links
                              copied with the list ("More Opera 9.64 user agents strings -->>")
  platform.js (MIT)           bestiejs/platform.js's test/test.js: each case's 'ua' = browser
                              in Mozilla/ or Opera/ form, else app (it names browsers and
                              runtimes; no bot type)
  uap-core-tests (Apache-2.0) uap-core's tests/test_ua.yaml, tests/test_os.yaml and
                              test_resources/additional_os_tests.yaml (the pinned uap-core
                              commit; only test_device.yaml and the Firefox and Opera Mini
                              lists were read before): bot when uap-core's device parser says
                              Spider (the rule the npm sample is labelled by), else browser in
                              Mozilla/ or Opera/ form, else app; the podcasting list = app.
                              Its pgts_browser_list (12,500 agents from pgts.com, a third
                              party's list with no licence of its own) is left out

Round thirteen's development-only sources are read by scripts/ua_git_sources_r13.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ua_parser
import yaml

Row = tuple[str, str, str, str]
BROWSER_FORM = ("Mozilla/", "Opera/")

# name: (repository, commit, licence, licence file)
GIT = {
    "uap-core": (
        "github.com/ua-parser/uap-core",
        "e3c5e634bee0b14f1a129c991483910739ad9f6c",
        "Apache-2.0",
        "LICENSE",
    ),
    "browscap": (
        "github.com/browscap/browscap",
        "6c0c9208f9314f062c5ac45d933c1a419e05f421",
        "MIT",
        "LICENSE",
    ),
    "whichbrowser": (
        "github.com/WhichBrowser/Parser-PHP",
        "581d614d686bfbec3529ad60562a5213ac5d8d72",
        "MIT",
        "LICENSE",
    ),
    "yauaa": (
        "github.com/nielsbasjes/yauaa",
        "eb28d67a46701bfd59727284cc6a03c50b3403de",
        "Apache-2.0",
        "LICENSE",
    ),
    "isbot": (
        "github.com/omrilotan/isbot",
        "344052da664bde49579e21f1e62349280791efb3",
        "Unlicense",
        "LICENSE",
    ),
    "woothee": (
        "github.com/woothee/woothee",
        "998c6ecd1c6b0df770210ba18ca55ee3600e5b80",
        "Apache-2.0",
        "README.md",
    ),
    "bowser": (
        "github.com/bowser-js/bowser",
        "cf397a4b506f59b3cc96e2daeaa4a0a62ae124e4",
        "MIT",
        "LICENSE",
    ),
    "mobile-detect": (
        "github.com/serbanghita/Mobile-Detect",
        "912a6f416e128781537e66b091a88e6c7032220c",
        "MIT",
        "LICENSE",
    ),
    "fnando-browser": (
        "github.com/fnando/browser",
        "f5dc0c99546133515138a29467eded73d0bb3a48",
        "MIT",
        "LICENSE.md",
    ),
    "ua-parser-js": (
        "github.com/faisalman/ua-parser-js (tag 1.0.41)",
        "90017c98d341788570435b7587ce1f0725022c7a",
        "MIT",
        "license.md",
    ),
    "browser-php": (
        "github.com/cbschuld/Browser.php",
        "9d07d6410977d494d7b8ecc2f3c877645c5477d9",
        "MIT",
        "LICENSE.md",
    ),
    "platform.js": (
        "github.com/bestiejs/platform.js",
        "44978b28a5eaa992cf3e0d57d3fa5d4fb6e1026e",
        "MIT",
        "LICENSE",
    ),
    "uap-core-tests": (
        "github.com/ua-parser/uap-core",
        "e3c5e634bee0b14f1a129c991483910739ad9f6c",
        "Apache-2.0",
        "LICENSE",
    ),
}


def clean(ua: object) -> str:
    return " ".join(str(ua or "").split())


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


class Repo:
    """One pinned commit of a git repository (a clone or a bare mirror)."""

    def __init__(self, git_dir: Path, commit: str) -> None:
        self.git_dir, self.commit = git_dir, commit

    def _git(self, *args: str) -> str:
        return subprocess.run(  # noqa: S603
            ["git", "-C", str(self.git_dir), *args],  # noqa: S607
            check=True,
            capture_output=True,
        ).stdout.decode("utf-8", "replace")

    def read(self, path: str) -> str:
        return self._git("show", f"{self.commit}:{path}")

    def files(self, under: str, suffix: str) -> list[str]:
        names = self._git("ls-tree", "-r", "--name-only", self.commit, under).splitlines()
        return sorted(n for n in names if n.endswith(suffix))


def uap_core(repo: Repo) -> Iterator[Row]:
    for case in load_yaml(repo.read("tests/test_device.yaml"))["test_cases"]:
        ua = clean(case["user_agent_string"])
        family = str(case.get("family") or "")
        label = "bot" if family == "Spider" else browser_form(ua)
        yield label, "uap-core", f"device:{family}".replace(",", " "), ua
    for name in ("firefox_user_agent_strings.yaml", "opera_mini_user_agent_strings.yaml"):
        for case in load_yaml(repo.read(f"test_resources/{name}"))["test_cases"]:
            yield "browser", "uap-core", name.split("_")[0], clean(case["user_agent_string"])


_BROWSCAP_CASE = re.compile(r"'ua' => '((?:[^'\\]|\\.)*)',\s*'properties' => \[(.*?)\n {8}\]", re.S)
_BROWSCAP_BOT_TYPES = {"Bot", "Bot/Crawler", "Offline Browser", "Tool"}


def browscap(repo: Repo) -> Iterator[Row]:
    for path in repo.files("tests/issues", ".php"):
        for m in _BROWSCAP_CASE.finditer(repo.read(path)):
            ua = clean(re.sub(r"\\(['\\])", r"\1", m.group(1)))
            kind = re.search(r"'Browser_Type' => '([^']*)'", m.group(2))
            if not kind:
                continue
            crawler = "'Crawler' => true" in m.group(2)
            label = (
                "bot"
                if crawler or kind.group(1) in _BROWSCAP_BOT_TYPES
                else "browser"
                if kind.group(1) == "Browser"
                else "app"
            )
            yield label, "browscap", f"browscap:{kind.group(1)}", ua


def whichbrowser(repo: Repo) -> Iterator[Row]:
    for path in repo.files("tests/data", ".yaml"):
        for case in load_yaml(repo.read(path)) or []:
            headers = case.get("headers")
            if isinstance(headers, dict):
                ua = clean(headers.get("User-Agent"))
            elif isinstance(headers, str) and headers.startswith("User-Agent: "):
                ua = clean(headers.removeprefix("User-Agent: "))
            else:
                continue
            result = case.get("result") or {}
            device = str((result.get("device") or {}).get("type") or "")
            kind = str((result.get("browser") or {}).get("type") or "none")
            label = "bot" if device == "bot" else "browser" if kind == "browser" else "app"
            yield label, "whichbrowser", f"whichbrowser:{kind}", ua


_YAUAA_BOT_AGENTS = {"Robot", "Robot Mobile", "Cloud Application", "Testclient"}
_YAUAA_BOT_DEVICES = {"Robot", "Robot Mobile", "Robot Imitator"}


def yauaa(repo: Repo) -> Iterator[Row]:
    for path in repo.files("analyzer/src/main/resources/UserAgents", ".yaml"):
        if Path(path).name.startswith(("Hackers", "BrokenUseragents")):
            continue
        document = load_yaml(repo.read(path))
        for entry in document.get("config", []) if isinstance(document, dict) else []:
            test = entry.get("test") if isinstance(entry, dict) else None
            if not isinstance(test, dict):
                continue
            ua = clean((test.get("input") or {}).get("user_agent_string"))
            expected = test.get("expected") or {}
            agent = str(expected.get("AgentClass") or "")
            device = str(expected.get("DeviceClass") or "")
            if agent == "Hacker":
                continue
            label = (
                "bot"
                if agent in _YAUAA_BOT_AGENTS or device in _YAUAA_BOT_DEVICES
                else "browser"
                if agent in {"Browser", "Browser Webview"}
                else "app"
            )
            yield label, "yauaa", f"yauaa:{agent}".replace(",", " "), ua


def isbot(repo: Repo) -> Iterator[Row]:
    for name, fixed in (("crawlers", "bot"), ("browsers", "")):
        for group, agents in load_yaml(repo.read(f"fixtures/{name}.yml")).items():
            title = str(group).split(" - ")[0]  # "ZZZ Insignificat bots - These bots have..."
            bots = fixed or ("bot" if re.search(r"\bbots\b", title, re.I) else "")
            for ua in map(clean, agents or []):
                label = bots or browser_form(ua)
                yield label, "isbot", f"isbot:{title}".replace(",", " "), ua


_WOOTHEE_BROWSERS = {"pc", "smartphone", "mobilephone", "appliance"}


def woothee(repo: Repo) -> Iterator[Row]:
    for path in repo.files("testsets", ".yaml"):
        for case in load_yaml(repo.read(path)) or []:
            ua = clean(case.get("target"))
            category, name = str(case.get("category") or ""), str(case.get("name") or "")
            label = (
                "bot"
                if category == "crawler" or name == "HTTP Library"
                else "browser"
                if category in _WOOTHEE_BROWSERS
                else "app"
            )
            yield label, "woothee", f"woothee:{category}".replace(",", " "), ua


def bowser(repo: Repo) -> Iterator[Row]:
    document = load_yaml(repo.read("test/acceptance/useragentstrings.yml"))
    for family, cases in document.items():
        for case in cases or []:
            ua = clean(case.get("ua"))
            kind = str(((case.get("spec") or {}).get("platform") or {}).get("type") or "")
            form = browser_form(ua)
            label = "bot" if kind == "bot" else form
            yield label, "bowser", f"bowser:{family}".replace(",", " "), ua


# A PHP array key: 'agent' => [...] (single-quoted, with escaped quotes and backslashes); a
# one-word key whose array opens at the end of its line names a group ('Apple' => [, 'Bot' => [).
_PHP_KEY = re.compile(r"^\s*'((?:[^'\\]|\\.)*)'\s*=>\s*\[(.*)$", re.M)


def mobile_detect(repo: Repo) -> Iterator[Row]:
    for path in repo.files("tests/providers/vendors", ".php"):
        group = ""
        for m in _PHP_KEY.finditer(repo.read(path)):
            key = clean(re.sub(r"\\(['\\])", r"\1", m.group(1)))
            if not m.group(2).strip() and "/" not in key and " " not in key:
                if key not in ("version", "model"):  # an entry's own nested arrays
                    group = key
                continue
            bot = group == "Bot" or "'isBot' => true" in m.group(2)
            form = browser_form(key)
            yield "bot" if bot else form, "mobile-detect", f"mobile-detect:{group}", key


def browser_form(ua: str) -> str:
    """A browser source's label for an agent not marked a bot: browser in Mozilla/ or Opera/
    form, else app."""
    return "browser" if ua.startswith(BROWSER_FORM) else "app"


MATOMO_AI = {"AI Data Scraper", "AI Search Crawler", "AI Assistant", "AI Agent"}


def matomo_case(case: dict[str, Any], source: str) -> Row:
    """One Matomo Device Detector fixture by its own annotation (the PyPI port's, round one, and
    upstream's, round fifteen): a bot entry = bot; client type browser = browser, library = bot
    (an HTTP library), a mobile app in Mozilla/ or Opera/ form = browser (in-app); else app."""
    ua = clean(case.get("user_agent"))
    if "bot" in case:
        bot = case["bot"] or {}
        category = str(bot.get("category") or "")
        named = ["ai-crawler"] if category in MATOMO_AI else []
        named += [f"matomo:{category or 'none'}", f"name:{bot.get('name', '')}"]
        return "bot", source, ",".join(t.replace(",", " ") for t in named), ua
    client = case.get("client") or {}
    kind = str(client.get("type") or "none")
    device = str((case.get("device") or {}).get("type") or "")
    tags = ",".join(t for t in (f"matomo:{kind}", device) if t)
    if kind == "browser":
        return "browser", source, tags, ua
    if kind == "library":
        return "bot", source, tags + ",http-library", ua
    if kind == "mobile app" and ua.startswith(BROWSER_FORM):
        return "browser", source, tags + ",in-app", ua
    return "app", source, tags, ua


def fnando_browser(repo: Repo) -> Iterator[Row]:
    for name in ("ua_bots", "ua_search_engines", "ua"):
        for key, ua in (load_yaml(repo.read(f"test/{name}.yml")) or {}).items():
            ua = clean(ua)
            label = "bot" if name != "ua" else browser_form(ua)
            yield label, "fnando-browser", f"fnando-browser:{name}:{key}".replace(",", " "), ua


def ua_parser_js(repo: Repo) -> Iterator[Row]:
    for name in ("browser", "device", "engine", "os", "cpu", "mediaplayer"):
        for case in json.loads(repo.read(f"test/{name}-test.json")):
            ua = clean(case.get("ua"))
            label = "app" if name == "mediaplayer" else browser_form(ua)
            yield label, "ua-parser-js", f"ua-parser-js:{name}", ua


def browser_php(repo: Repo) -> Iterator[Row]:
    for path in repo.files("tests/lists", ".txt"):
        for line in repo.read(path).splitlines():
            fields = line.split("\t")
            if len(fields) < 3:
                continue
            ua = clean(fields[0].removeprefix('"').removesuffix('"'))
            if ua.endswith("user agents strings -->>"):
                continue  # a web page's link ("More Opera 9.64 user agents strings -->>")
            label = "browser" if fields[1] == "Browser" else "app"
            yield label, "browser-php", f"browser-php:{fields[1]}:{fields[2]}".replace(",", " "), ua


# A case of platform.js's test/test.js: 'title': { 'ua': 'agent', ... 'name': 'browser', ...
_PLATFORM_JS_CASE = re.compile(
    r"\{\s*'ua': '((?:[^'\\]|\\.)*)',(?:[^{}]|\{[^{}]*\})*?'name': '([^']*)'"
)


def platform_js(repo: Repo) -> Iterator[Row]:
    for m in _PLATFORM_JS_CASE.finditer(repo.read("test/test.js")):
        ua = clean(re.sub(r"\\(.)", r"\1", m.group(1)))
        yield browser_form(ua), "platform.js", f"platform.js:{m.group(2)}".replace(",", " "), ua


def uap_core_tests(repo: Repo) -> Iterator[Row]:
    names = ("tests/test_ua.yaml", "tests/test_os.yaml", "test_resources/additional_os_tests.yaml")
    for path in (*names, "test_resources/podcasting_user_agent_strings.yaml"):
        for case in load_yaml(repo.read(path))["test_cases"]:
            ua = clean(case["user_agent_string"])
            device = ua_parser.parse_device(ua)
            spider = device is not None and device.family == "Spider"
            label = "app" if path not in names else "bot" if spider else browser_form(ua)
            yield label, "uap-core-tests", f"uap-core:{Path(path).stem}", ua


READERS: dict[str, Callable[[Repo], Iterator[Row]]] = {
    "uap-core": uap_core,
    "browscap": browscap,
    "whichbrowser": whichbrowser,
    "yauaa": yauaa,
    "isbot": isbot,
    "woothee": woothee,
    "bowser": bowser,
    "mobile-detect": mobile_detect,
    "fnando-browser": fnando_browser,
    "ua-parser-js": ua_parser_js,
    "browser-php": browser_php,
    "platform.js": platform_js,
    "uap-core-tests": uap_core_tests,
}


Pinned = tuple[str, str, str, str]  # repository, commit, licence, licence file


def readers_by_name(
    *readers: Callable[[Repo], Iterator[Row]],
) -> dict[str, Callable[[Repo], Iterator[Row]]]:
    """Each reader by its source's name: the function's, with dashes (later rounds' modules)."""
    return {reader.__name__.replace("_", "-"): reader for reader in readers}


def git_rows(
    name: str, pinned: Pinned, reader: Callable[[Repo], Iterator[Row]], git_dir: Path, out: Path
) -> Iterator[Row]:
    """The rows of one git source; its licence file is copied beside the corpus."""
    _, commit, _, licence = pinned
    repo = Repo(git_dir, commit)
    text = repo.read(licence)
    if licence == "README.md":  # woothee states its licence in its README only
        text = text[text.index("## License") :]
    if licence == "dist.ini":  # Parse::HTTP::UserAgent states it in its build settings only
        text = text.split("\n\n", 1)[0] + "\n"
    (out / f"LICENSE.{name}").write_text(text, "utf-8")
    yield from reader(repo)
