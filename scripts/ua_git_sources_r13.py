"""Round thirteen's development-only user-agent fixtures (2026-12-05), read from git repositories.

As scripts/ua_git_sources.py's: each source is pinned to a commit and read with `git show
COMMIT:path` from a clone or bare mirror passed as `--git NAME=DIR` to scripts/fetch_ua_corpora.py;
each is in tests/ua_corpus.DEV_ONLY, so an agent only they list is in the `dev-new` pool and
their rows for an agent another source lists are not read. Labels follow each project's own
annotation:

  php-user-agent (MIT)        donatj/PhpUserAgent's tests/user_agents.dist.json (agent: its
                              platform, browser and classes): class Bots = bot (crawlers,
                              curl, Wget: the project's own Bots list); else browser in
                              Mozilla/ or Opera/ form, else app
  jenssegers-agent (MIT)      jenssegers/agent's tests/AgentTest.php arrays: $robots = bot;
                              the others ($browsers, $phones, $desktops...) = browser in
                              Mozilla/ or Opera/ form, else app
  projectdiscovery-useragent  projectdiscovery/useragent's useragent_data.json (its tagged
  (MIT)                       list; every entry is tagged browser and web-browser) = browser
                              in Mozilla/ or Opera/ form, else app
  mileusna-useragent (MIT)    mileusna/useragent's ua_test.go test table (agent, name,
                              version, device kind, OS): kind "bot" = bot; else browser in
                              Mozilla/ or Opera/ form, else app (its tools, Wget and
                              Go-http-client, have no kind: app)
  uasurfer (Apache-2.0)       avct/uasurfer's uasurfer_test.go cases: a browser named ...Bot
                              or the platform PlatformBot = bot; else browser in Mozilla/ or
                              Opera/ form, else app. Left out: its cases with an empty
                              expectation (the empty string, "a", "some random string", ")(":
                              parser input, not clients)
  http-browserdetect          oalders/http-browserdetect's (CPAN HTTP::BrowserDetect)
  (Perl 5: GPL-1.0-or-later   t/useragents.json and t/more-useragents.json: an agent with a
  or Artistic-1.0)            `robot` = bot, else browser in Mozilla/ or Opera/ form, else app.
                              Left out: its robot "malware" (shell and injection payloads:
                              attack input, not clients, as yauaa's Hackers files)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from ua_git_sources import Pinned, Repo, Row, browser_form, clean, readers_by_name

GIT: dict[str, Pinned] = {
    "php-user-agent": (
        "github.com/donatj/PhpUserAgent",
        "b7e2f5702b58d2efe82af3c911c5f45294bb40a8",
        "MIT",
        "LICENSE.md",
    ),
    "jenssegers-agent": (
        "github.com/jenssegers/agent",
        "1d91c71bc076a60061e0498216c0caf849eced94",
        "MIT",
        "LICENSE.md",
    ),
    "projectdiscovery-useragent": (
        "github.com/projectdiscovery/useragent",
        "bd712910f2b8891054fc77204e65e9e3865b11b5",
        "MIT",
        "LICENSE",
    ),
    "mileusna-useragent": (
        "github.com/mileusna/useragent",
        "ccb4f040357948ae385a7132cd85943c29790ed1",
        "MIT",
        "LICENSE.md",
    ),
    "uasurfer": (
        "github.com/avct/uasurfer",
        "a0b2b1af2b48faae0aa591fdbe26cb69651e4a31",
        "Apache-2.0",
        "LICENSE",
    ),
    "http-browserdetect": (
        "github.com/oalders/http-browserdetect",
        "5452caa110c3830696311ef34d1c0a7593281cc3",
        "Perl-5 (GPL-1.0-or-later OR Artistic-1.0)",
        "LICENSE",
    ),
}


def php_user_agent(repo: Repo) -> Iterator[Row]:
    for ua, case in json.loads(repo.read("tests/user_agents.dist.json")).items():
        ua, classes = clean(ua), case.get("class") or []
        label = "bot" if "Bots" in classes else browser_form(ua)
        browser = str(case.get("browser") or "")
        yield label, "php-user-agent", f"php-user-agent:{browser}".replace(",", " "), ua


# One array of jenssegers/agent's tests/AgentTest.php (private $robots = [ ... ];) and its
# single-quoted strings: keys ('agent' => 'name') or plain items ('agent',).
_PHP_ARRAY = re.compile(r"private \$(\w+) = \[(.*?)\n    \];", re.S)
_PHP_ITEM = re.compile(r"^\s*'((?:[^'\\]|\\.)*)'\s*(?:=>|,)", re.M)


def jenssegers_agent(repo: Repo) -> Iterator[Row]:
    for array in _PHP_ARRAY.finditer(repo.read("tests/AgentTest.php")):
        for item in _PHP_ITEM.finditer(array.group(2)):
            ua = clean(re.sub(r"\\(['\\])", r"\1", item.group(1)))
            label = "bot" if array.group(1) == "robots" else browser_form(ua)
            yield label, "jenssegers-agent", f"jenssegers-agent:{array.group(1)}", ua


def projectdiscovery_useragent(repo: Repo) -> Iterator[Row]:
    for entry in json.loads(repo.read("useragent_data.json")):
        ua, tags = clean(entry.get("Raw")), entry.get("Tags") or []
        tag = f"projectdiscovery:{tags[0] if tags else ''}".replace(",", " ")
        yield browser_form(ua), "projectdiscovery-useragent", tag, ua


_GO_STRING = r'"((?:[^"\\]|\\.)*)"'
# A row of mileusna/useragent's test table, not commented out: {"agent", name, "version", "kind"...
_MILEUSNA_ROW = re.compile(rf"^\s*\{{{_GO_STRING}, *([\w.]+|{_GO_STRING}), *{_GO_STRING}, *"
                           rf"([\w.]+|{_GO_STRING})", re.M)  # fmt: skip


def _go_unquote(text: str) -> str:
    return clean(re.sub(r"\\(.)", r"\1", text))


def mileusna_useragent(repo: Repo) -> Iterator[Row]:
    for row in _MILEUSNA_ROW.finditer(repo.read("ua_test.go")):
        ua, name = _go_unquote(row.group(1)), row.group(3) or row.group(2)
        label = "bot" if row.group(6) == "bot" else browser_form(ua)
        yield label, "mileusna-useragent", f"mileusna:{name}".replace(",", " "), ua


# A case of avct/uasurfer's test table:
# {"agent", UserAgent{ Browser{BrowserName, Version{...}}, OS{Platform...
_UASURFER_CASE = re.compile(
    rf"^\s*\{{{_GO_STRING},\s*UserAgent\{{\s*Browser\{{(\w+), Version\{{[^}}]*\}}\}}, OS\{{(\w+),",
    re.M,
)


def uasurfer(repo: Repo) -> Iterator[Row]:
    for case in _UASURFER_CASE.finditer(repo.read("uasurfer_test.go")):
        ua, browser, platform = _go_unquote(case.group(1)), case.group(2), case.group(3)
        bot = browser.endswith("Bot") or platform == "PlatformBot"
        label = "bot" if bot else browser_form(ua)
        yield label, "uasurfer", f"uasurfer:{browser}", ua


def http_browserdetect(repo: Repo) -> Iterator[Row]:
    for name in ("useragents", "more-useragents"):
        for ua, case in json.loads(repo.read(f"t/{name}.json")).items():
            ua, robot = clean(ua), str(case.get("robot") or "")
            if robot == "malware":
                continue  # shell and injection payloads, not clients
            label = "bot" if robot else browser_form(ua)
            kind = robot or str(case.get("browser") or "")
            yield label, "http-browserdetect", f"browserdetect:{kind}".replace(",", " "), ua


READERS = readers_by_name(
    php_user_agent,
    jenssegers_agent,
    projectdiscovery_useragent,
    mileusna_useragent,
    uasurfer,
    http_browserdetect,
)
assert set(READERS) == set(GIT)
