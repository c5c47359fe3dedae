"""The quality measurement of user-agent classification, shared by the test and the report.

The corpus and its labels are in tests/ua_corpus.py. Besides it: the ai.robots.txt names
(tests/data/ai-robots-txt, MIT), and below the default user agents of scraper tools, headless
browsers and a dataset downloader, as each tool sends them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.fingerprint.useragent import CATEGORY_WEIGHTS
from scrapeshield.policy.engine import Policy
from scrapeshield.settings import PolicySettings
from scrapeshield.signals import Action, Signal
from tests.ua_corpus import Sample, browser_year, in_half, load

DATA = Path(__file__).parent / "data"

SCRAPER_TOOLS = {
    "curl/8.5.0": "curl",
    "Wget/1.21.4": "Wget",
    "Wget/1.20.3 (linux-gnu)": "Wget",
    "python-requests/2.31.0": "python-requests",
    "python-httpx/0.27.0": "python-httpx",
    "Python/3.11 aiohttp/3.9.1": "aiohttp",
    "Python-urllib/3.11": "urllib",
    "python-urllib3/2.0.7": "urllib3",
    "Scrapy/2.11.0 (+https://scrapy.org)": "Scrapy",
    "gallery-dl/1.26.9": "gallery-dl",
    "Go-http-client/1.1": "Go-http-client",
    "Go-http-client/2.0": "Go-http-client",
    "okhttp/4.12.0": "okhttp",
    "Java/17.0.9": "Java",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)": "Apache-HttpClient",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)": "node-fetch",
    "node-fetch": "node-fetch",
    "axios/1.6.2": "axios",
    "undici": "undici",
    "Mozilla/4.5 (compatible; HTTrack 3.0x; Windows 98)": "HTTrack",
    "libwww-perl/6.72": "libwww-perl",
    "WWW-Mechanize/2.17": "WWW-Mechanize",
    "Ruby": "Ruby",
    "Faraday v2.7.11": "Faraday",
    "GuzzleHttp/7": "GuzzleHttp",
    "reqwest/0.11": "reqwest",
    "HTTPie/3.2.2": "HTTPie",
    "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3570": "PS",
    "aria2/1.36.0": "aria2",
}
HEADLESS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.6099.28 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
    "PhantomJS/2.1.1 Safari/538.1",
]
AI_DATASET = [
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:72.0) Gecko/20100101 Firefox/72.0 "
    "(compatible; img2dataset; +https://github.com/rom1504/img2dataset)",
]
AI_RULES = {"ai-crawler", "ai-dataset-downloader"}
# AI-related agents that a rule other than the AI rules handles, by scrapeshield's choice
# (docs/detection.md): search engines and previews are verified and allowed, a headless browser
# is challenged, a scraping framework is blocked as a scraper tool.
NOT_AI_RULE = {
    "Applebot": "search-engine: Apple search; AI use is opted out by Applebot-Extended",
    "PetalBot": "search-engine: Huawei's Petal Search",
    "facebookexternalhit": "social-preview: link previews",
    "HeadlessChrome": "headless-browser: Lightpanda, an open-source headless browser anyone runs",
    "Scrapy": "scraper-tool: a scraping framework, blocked by the scraper-tool rule",
}


def probe(name: str) -> str:
    """The user agent an agent of this robots.txt name sends, in the common bot form."""
    return f"Mozilla/5.0 (compatible; {name}/1.0; +https://example.com/bot)"


def ai_robots_names() -> list[str]:
    return list(json.loads((DATA / "ai-robots-txt" / "robots.json").read_text("utf-8")))


@dataclass(frozen=True)
class Given:
    """A family as ua-parser would give it, for the bot rules (`uaparse.Parsed`)."""

    family: str
    may_name_a_bot: bool = True


@dataclass
class Figure:
    name: str
    hits: int
    total: int
    misses: list[str]

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def line(self) -> str:  # for a browser figure, `hits` counts false positives
        return f"{self.name:<52} {self.hits:>6}/{self.total:<6} {100 * self.rate:8.3f}%"


def _figure(name: str, items: list[str], ok: list[bool]) -> Figure:
    misses = [ua for ua, good in zip(items, ok, strict=True) if not good]
    return Figure(name, len(items) - len(misses), len(items), misses)


def _flagged(name: str, items: list[str], flagged: list[bool]) -> Figure:
    """A false-positive figure: `hits` are the flagged items, listed in `misses` too."""
    bad = [ua for ua, f in zip(items, flagged, strict=True) if f]
    return Figure(name, len(bad), len(items), bad)


class Judge:
    """The classifier's reading of an agent, and the default policy's rule for its category."""

    def __init__(self, classifier: UAClassifier) -> None:
        self.classifier = classifier
        self.policy = Policy(PolicySettings())

    def flagged(self, ua: str) -> bool:
        return self.classifier.classify(ua).is_bot

    def agent_name(self, ua: str) -> str:
        agent = self.classifier.classify(ua).agent
        return agent.name if agent else ""

    def category(self, ua: str) -> str:
        agent = self.classifier.classify(ua).agent
        return agent.category if agent else ""

    def rule(self, ua: str) -> str:
        """The default policy's blocking rule for the agent's category ("" if none blocks)."""
        category = self.category(ua)
        if not category:
            return ""
        weight = CATEGORY_WEIGHTS.get(category, 45.0)
        verdict = self.policy.evaluate((Signal(f"ua/category/{category}", weight, ""),))
        return verdict.rule if verdict.action is Action.BLOCK else ""


def corpus_figures(
    judge: Judge, half: str, samples: tuple[Sample, ...], *, untargeted: bool = True
) -> list[Figure]:
    """The targets' figures on one half (`dev`, `eval`, or dev's own halves `dev-A`, `dev-B`);
    `untargeted`: also those held to no target (in-app, apps, generated, spoofed), which the
    report prints and no test asserts: three quarters of a half's agents, skipped by the test."""
    mine = [s for s in samples if in_half(s, half)]
    browsers = [s.ua for s in mine if s.label == "browser"]
    recent = [ua for ua in browsers if (browser_year(ua) or 0) >= 2022]
    in_app = [s.ua for s in mine if s.label == "browser" and "in-app" in s.tags]
    bots = [s.ua for s in mine if s.label == "bot"]
    apps = [s.ua for s in mine if s.label == "app"]
    fake = [s.ua for s in mine if s.label == "synthetic"]
    spoofed = [s.ua for s in mine if s.label == "spoofed"]
    flag = judge.flagged
    targets = [
        _flagged(f"browsers flagged [{half}]", browsers, [flag(u) for u in browsers]),
        _flagged(f"browsers from 2022 on flagged [{half}]", recent, [flag(u) for u in recent]),
        _figure(f"bots recalled [{half}]", bots, [flag(u) for u in bots]),
    ]
    if not untargeted:
        return targets
    return [
        *targets[:2],
        _flagged(f"  of which in-app browsers flagged [{half}]", in_app, [flag(u) for u in in_app]),
        targets[2],
        _flagged(f"apps (not browsers, no target) flagged [{half}]", apps, [flag(u) for u in apps]),
        _flagged(
            f"generated Chrome agents (no target) flagged [{half}]", fake, [flag(u) for u in fake]
        ),
        _flagged(
            f"spoofed agents (no target) flagged [{half}]", spoofed, [flag(u) for u in spoofed]
        ),
    ]


def measure(
    classifier: UAClassifier, halves: tuple[str, ...] = ("eval",), *, untargeted: bool = True
) -> dict[str, Figure]:
    """Every figure: the corpus targets per half (`untargeted`: and those held to no target),
    then the AI and tool figures (whole sets)."""
    judge = Judge(classifier)
    samples = load()
    figures: list[Figure] = []
    for half in halves:
        figures += corpus_figures(judge, half, samples, untargeted=untargeted)
    names = ai_robots_names()
    ai = sorted({s.ua for s in samples if s.is_ai} | {probe(n) for n in names})
    ai = [ua for ua in ai if judge.agent_name(ua) not in NOT_AI_RULE]
    figures += [
        _figure("AI agents blocked by an AI rule", ai, [judge.rule(u) in AI_RULES for u in ai]),
        _figure(
            "ai.robots.txt agents recognised",
            names,
            [bool(judge.category(probe(n))) for n in names],
        ),
        _figure(
            "scraper tools, category scraper-tool",
            list(SCRAPER_TOOLS),
            [judge.category(u) == "scraper-tool" for u in SCRAPER_TOOLS],
        ),
        _figure(
            "headless browsers, category headless-browser",
            HEADLESS,
            [judge.category(u) == "headless-browser" for u in HEADLESS],
        ),
        _figure(
            "dataset downloaders, category ai-dataset",
            AI_DATASET,
            [judge.category(u) == "ai-dataset" for u in AI_DATASET],
        ),
    ]
    return {f.name: f for f in figures}
