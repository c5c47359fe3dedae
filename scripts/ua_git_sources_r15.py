"""Round fifteen's development-only user-agent fixtures (2026-12-06), read from git repositories.

As scripts/ua_git_sources.py's: each source is pinned to a commit and read with `git show
COMMIT:path` from a clone or bare mirror passed as `--git NAME=DIR` to scripts/fetch_ua_corpora.py;
each is in tests/ua_corpus.DEV_ONLY, so an agent only they list is in the `dev-new` pool and
their rows for an agent another source lists are not read. Labels follow each project's own
annotation:

  matomo-upstream             matomo-org/device-detector's parser tests' fixtures at a 2026
  (LGPL-3.0-or-later, used    commit, which the PyPI port does not ship (Tests/Parser/**/
  as test data as the PyPI    fixtures/*.yml: clients by type, OS, device types; its device
  port's fixtures are)        fixtures, Tests/fixtures/*.yml, are the port's, 7 agents newer),
                              labelled as the PyPI port's (ua_git_sources.matomo_case:
                              a bot entry = bot, client type library = bot, browser = browser,
                              a mobile app in Mozilla/ or Opera/ form = browser, else app);
                              type-methods.yml by its isBot() column (true = bot, else browser
                              in Mozilla/ or Opera/ form, else app); oss.yml, which annotates
                              the OS only, as browser in Mozilla/ or Opera/ form, else app.
                              Left out: vendorfragments.yml (agents keyed `useragent`, MSIE
                              agents with a vendor's token, no client annotation)
  coreruleset-scanners        OWASP CRS's regression tests of rule 913100 ("security scanner
  (Apache-2.0)                in the User-Agent"): a test expecting 913100 = bot, one expecting
                              it not to fire = browser in Mozilla/ or Opera/ form, else app
"""

from __future__ import annotations

from collections.abc import Iterator

from ua_git_sources import (
    Pinned,
    Repo,
    Row,
    browser_form,
    clean,
    load_yaml,
    matomo_case,
    readers_by_name,
)

GIT: dict[str, Pinned] = {
    "matomo-upstream": (
        "github.com/matomo-org/device-detector",
        "3856a28692d45317d3f15f6f81ca31a06067182a",
        "LGPL-3.0-or-later",
        "LICENSE",
    ),
    "coreruleset-scanners": (
        "github.com/coreruleset/coreruleset",
        "2cbd1d019cb7c85319ba4d9102a382c9de7a8e53",
        "Apache-2.0",
        "LICENSE",
    ),
}


def matomo_upstream(repo: Repo) -> Iterator[Row]:
    paths = [p for p in repo.files("Tests/Parser", ".yml") if "/fixtures/" in p]
    for path in paths:
        if path.endswith("vendorfragments.yml"):
            continue
        cases = load_yaml(repo.read(path))
        for case in cases if isinstance(cases, list) else []:
            if not isinstance(case, dict) or not clean(case.get("user_agent")):
                continue
            if path.endswith("type-methods.yml"):
                ua = clean(case["user_agent"])
                bot = bool((case.get("check") or [False])[0])
                yield "bot" if bot else browser_form(ua), "matomo-upstream", "matomo:check", ua
            elif path.endswith("oss.yml"):
                ua = clean(case["user_agent"])
                yield browser_form(ua), "matomo-upstream", "matomo:os", ua
            else:
                yield matomo_case(case, "matomo-upstream")


def coreruleset_scanners(repo: Repo) -> Iterator[Row]:
    under = "tests/regression/tests/REQUEST-913-SCANNER-DETECTION"
    for path in repo.files(under, ".yaml"):
        for test in load_yaml(repo.read(path))["tests"]:
            for stage in test["stages"]:
                ua = clean((stage["input"].get("headers") or {}).get("User-Agent"))
                log = (stage.get("output") or {}).get("log") or {}
                if not ua or not ({"expect_ids", "no_expect_ids"} & set(log)):
                    continue
                label = "bot" if 913100 in (log.get("expect_ids") or []) else browser_form(ua)
                yield label, "coreruleset-scanners", "crs:913100", ua


READERS = readers_by_name(matomo_upstream, coreruleset_scanners)
assert set(READERS) == set(GIT)
