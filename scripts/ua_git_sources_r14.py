"""Round fourteen's development-only user-agent fixtures (2026-12-06), read from git repositories.

As scripts/ua_git_sources.py's: each source is pinned to a commit and read with `git show
COMMIT:path` from a clone or bare mirror passed as `--git NAME=DIR` to scripts/fetch_ua_corpora.py;
each is in tests/ua_corpus.DEV_ONLY, so an agent only they list is in the `dev-new` pool and
their rows for an agent another source lists are not read. Labels follow each project's own
annotation:

  well-known-bots (MIT)       arcjet/well-known-bots' well-known-bots.json (a fork of
                              crawler-user-agents grown on its own): every entry's accepted
                              instances = bot, tagged with its id and categories
  top-crawler-agents (MIT)    Kikobeats/top-crawler-agents' index.json (common crawler
                              agents) = bot
  mssola-useragent (MIT)      mssola/useragent's all_test.go table (ua, expected): expected
                              "Bot:true" = bot; else browser in Mozilla/ or Opera/ form,
                              else app
  user-agent-utils            HaraldWalker/user-agent-utils' browser/*ParameterizedTest.java
  (BSD-3-Clause)              cases (agent, Browser...): Browser.BOT or BOT_MOBILE = bot;
                              else browser in Mozilla/ or Opera/ form, else app (its tools,
                              curl and Wget, are Browser.DOWNLOAD: app)
  gshutler-useragent (MIT)    gshutler/useragent's spec/browsers/*_spec.rb: an agent whose
                              block expects `to be_bot` = bot; else browser in Mozilla/ or
                              Opera/ form, else app
  express-useragent (MIT)     biggora/express-useragent's tests/bots.test.ts cases: isBot
                              set = bot; else browser in Mozilla/ or Opera/ form, else app
  httpagentparser (MIT)       shon/httpagentparser's tests.py data (agent, simple, detect):
                              detect's 'bot' True = bot; else browser in Mozilla/ or Opera/
                              form, else app
  parse-http-useragent        burak/CPAN-Parse-HTTP-UserAgent's t/data files (CPAN
  (Perl 5: GPL-1.0-or-later   Parse::HTTP::UserAgent; its dist.ini states the licence, which
  or Artistic-1.0)            LICENSE.parse-http-useragent keeps): each [AGENT] block's first
                              line that is not a comment; `robot => 1` = bot, else browser in
                              Mozilla/ or Opera/ form, else app. Left out: the agents its files
                              comment out (#TODO)
  agentzero (MIT)             hexydec/agentzero's tests/*Test.php cases ('agent' => [...]):
                              'type' => 'robot' = bot; else browser in Mozilla/ or Opera/
                              form, else app
  voxtechnica-useragent       voxtechnica/user-agent's cmd/sample_data/user_agents.json: 17,548
  (MIT)                       distinct agents of one site's page views in 2022 Q2, grouped
                              by a Java port of Matomo Device Detector ("bot - AhrefsBot",
                              "browser - Chrome - desktop - Windows"): group bot or library
                              (an HTTP library, as Matomo's are read above) = bot; browser,
                              desktop or mobile app = browser in Mozilla/ or Opera/ form (an
                              app's in-app browser), else app. Left out: its ungrouped entry
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator

from ua_git_sources import Pinned, Repo, Row, browser_form, clean, readers_by_name

GIT: dict[str, Pinned] = {
    "well-known-bots": (
        "github.com/arcjet/well-known-bots",
        "0637e27abef588368a29bb041b6e1e9af2e81f90",
        "MIT",
        "LICENSE",
    ),
    "top-crawler-agents": (
        "github.com/Kikobeats/top-crawler-agents",
        "4b840d78cab7e30a7f608861344f52e56bc4d15f",
        "MIT",
        "LICENSE.md",
    ),
    "mssola-useragent": (
        "github.com/mssola/useragent",
        "5dace200b5dee42c9fffb8816cabf3ab89a6c13a",
        "MIT",
        "LICENSE",
    ),
    "user-agent-utils": (
        "github.com/HaraldWalker/user-agent-utils",
        "7f954514298f76afff8a75723bc25205bfe30d1b",
        "BSD-3-Clause",
        "LICENSE.txt",
    ),
    "gshutler-useragent": (
        "github.com/gshutler/useragent",
        "680915aa9e271592fac15d9853da1ff5e589da06",
        "MIT",
        "LICENSE",
    ),
    "express-useragent": (
        "github.com/biggora/express-useragent",
        "015f88b98acacc4f77d824ca3d1746be83e31c8a",
        "MIT",
        "LICENSE",
    ),
    "httpagentparser": (
        "github.com/shon/httpagentparser",
        "389296c66b2183addb1a53add3ec0c71e16cddfa",
        "MIT",
        "LICENSE.txt",
    ),
    "parse-http-useragent": (
        "github.com/burak/CPAN-Parse-HTTP-UserAgent",
        "f99fd88e1be51086c302cc6a182738875c0075b0",
        "Perl-5 (GPL-1.0-or-later OR Artistic-1.0)",
        "dist.ini",
    ),
    "agentzero": (
        "github.com/hexydec/agentzero",
        "83c4b5e5c36c11b0cf6f9ce208de31b9112d4fc5",
        "MIT",
        "LICENSE",
    ),
    "voxtechnica-useragent": (
        "github.com/voxtechnica/user-agent",
        "97e26ba251d7f09c3181946d35dc2566b03c9510",
        "MIT",
        "LICENSE",
    ),
}


def well_known_bots(repo: Repo) -> Iterator[Row]:
    for entry in json.loads(repo.read("well-known-bots.json")):
        tags = [f"arcjet:{entry.get('id', '')}", *(f"arcjet:{c}" for c in entry["categories"])]
        tag = ",".join(t.replace(",", " ") for t in tags)
        for ua in (entry.get("instances") or {}).get("accepted") or []:
            yield "bot", "well-known-bots", tag, clean(ua)


def top_crawler_agents(repo: Repo) -> Iterator[Row]:
    for ua in json.loads(repo.read("index.json")):
        yield "bot", "top-crawler-agents", "top-crawler-agents", clean(ua)


_GO_STRING = r'"((?:[^"\\]|\\.)*)"'
# One case of mssola/useragent's table: ua: "agent", expected: "... Bot:true ...".
_MSSOLA_CASE = re.compile(rf"^\s*ua:\s*{_GO_STRING},\s*expected:\s*{_GO_STRING}", re.M)


def _unquote(text: str) -> str:
    return clean(re.sub(r"\\(.)", r"\1", text))


def mssola_useragent(repo: Repo) -> Iterator[Row]:
    for case in _MSSOLA_CASE.finditer(repo.read("all_test.go")):
        ua, bot = _unquote(case.group(1)), "Bot:true" in case.group(2).split()
        browser = re.search(r"Browser:(\S+)", case.group(2))
        tag = f"mssola:{browser.group(1) if browser else ''}".replace(",", " ")
        yield "bot" if bot else browser_form(ua), "mssola-useragent", tag, ua


# One case of a user-agent-utils parameterized test: { "agent", Browser.NAME or NAME, ...
_JAVA_CASE = re.compile(rf"\{{\s*{_GO_STRING},\s*(?:Browser\.)?([A-Z][A-Z0-9_]*)\s*,")


def user_agent_utils(repo: Repo) -> Iterator[Row]:
    under = "src/test/java/eu/bitwalker/useragentutils/browser"
    for path in repo.files(under, "ParameterizedTest.java"):
        for case in _JAVA_CASE.finditer(repo.read(path)):
            ua, browser = _unquote(case.group(1)), case.group(2)
            label = "bot" if browser in ("BOT", "BOT_MOBILE") else browser_form(ua)
            yield label, "user-agent-utils", f"user-agent-utils:{browser}", ua


_RUBY_PARSE = re.compile(r"UserAgent\.parse\(\"((?:[^\"\\]|\\.)*)\"\)")


def gshutler_useragent(repo: Repo) -> Iterator[Row]:
    for path in repo.files("spec/browsers", "_spec.rb"):
        text = repo.read(path)
        found = list(_RUBY_PARSE.finditer(text))
        for case, after in zip(found, [*found[1:], None], strict=True):
            block = text[case.end() : after.start() if after else len(text)]
            ua = _unquote(case.group(1))
            label = "bot" if re.search(r"\)\.to be_bot\b", block) else browser_form(ua)
            name = path.rsplit("/", 1)[1].removesuffix("_user_agent_spec.rb")
            yield label, "gshutler-useragent", f"gshutler:{name}", ua


# One case of express-useragent's tests/bots.test.ts: source: '...', ... isBot: ... },
_TS_CASE = re.compile(r"source:\s*'((?:[^'\\]|\\.)*)',(.*?)\n  \}", re.S)


def express_useragent(repo: Repo) -> Iterator[Row]:
    for case in _TS_CASE.finditer(repo.read("tests/bots.test.ts")):
        ua, rest = _unquote(case.group(1)), case.group(2)
        bot = re.search(r"\bisBot:\s*(?!false\b)\S", rest)
        yield "bot" if bot else browser_form(ua), "express-useragent", "express-useragent", ua


def httpagentparser(repo: Repo) -> Iterator[Row]:
    module = ast.parse(repo.read("tests.py"))
    data = next(
        node.value
        for node in module.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "data"
    )
    for ua, _, detected in ast.literal_eval(data):
        ua = clean(ua)
        name = str((detected.get("browser") or {}).get("name") or "")
        label = "bot" if detected.get("bot") else browser_form(ua)
        yield label, "httpagentparser", f"httpagentparser:{name}".replace(",", " "), ua


_ROBOT = re.compile(r"^\s*'?robot'?\s*=>\s*1\b", re.M)


def parse_http_useragent(repo: Repo) -> Iterator[Row]:
    for path in repo.files("t/data", ""):
        if path.count("/") < 3:
            continue  # t/data/README
        for block in repo.read(path).split("[AGENT]"):
            lines = [line for line in block.splitlines() if line.strip()]
            lines = [line for line in lines if not line.lstrip().startswith("#")]
            if not lines:
                continue
            ua = clean(lines[0])
            label = "bot" if _ROBOT.search("\n".join(lines[1:])) else browser_form(ua)
            tag = "parse-http-useragent:" + path.removeprefix("t/data/").replace(",", " ")
            yield label, "parse-http-useragent", tag, ua


# One case of an agentzero test: 'agent' => [ ... ], at three tabs' indent.
_PHP_CASE = re.compile(r"^\t\t\t'((?:[^'\\]|\\.)*)' => \[(.*?)^\t\t\t\]", re.M | re.S)


def agentzero(repo: Repo) -> Iterator[Row]:
    for path in repo.files("tests", "Test.php"):
        name = path.removeprefix("tests/").removesuffix("Test.php")
        for case in _PHP_CASE.finditer(repo.read(path)):
            ua = clean(re.sub(r"\\(['\\])", r"\1", case.group(1)))
            robot = re.search(r"'type' => 'robot'", case.group(2))
            yield "bot" if robot else browser_form(ua), "agentzero", f"agentzero:{name}", ua


def voxtechnica_useragent(repo: Repo) -> Iterator[Row]:
    for group in json.loads(repo.read("cmd/sample_data/user_agents.json")):
        kind = group["userAgent"].split(" \u2013 ")[0]
        if not kind:
            continue  # its ungrouped entry
        tag = f"voxtechnica:{kind}".replace(",", " ")
        for ua in map(clean, group["stringCounts"]):
            label = "bot" if kind in ("bot", "library") else browser_form(ua)
            yield label, "voxtechnica-useragent", tag, ua


READERS = readers_by_name(
    well_known_bots,
    top_crawler_agents,
    mssola_useragent,
    user_agent_utils,
    gshutler_useragent,
    express_useragent,
    httpagentparser,
    parse_http_useragent,
    agentzero,
    voxtechnica_useragent,
)
assert set(READERS) == set(GIT)
