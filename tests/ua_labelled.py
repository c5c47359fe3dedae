"""The labelled user-agent set and its measurement, shared by the quality test and the report.

Sources (tests/data/, each with its licence): crawler-user-agents 1.60.0 (MIT, npm) for bots,
user-agents 2.1.198 (BSD-2-Clause, npm) for real browsers, ai.robots.txt @ 738c80df2169 (MIT)
for the AI agents. SCRAPER_TOOLS are the default user agents of the tools, as each sends them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from scrapeshield.fingerprint.uaclass import UAClassifier

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


def bots() -> list[tuple[str, set[str]]]:
    rows = (DATA / "ua" / "bots.tsv").read_text("utf-8").splitlines()
    return [(ua, set(tags.split(",")) - {""}) for ua, _, tags in (r.partition("\t") for r in rows)]


# Listed by a browser corpus but sent by no browser: relabelled, each with the reason.
NOT_BROWSERS = {
    # top-user-agents: a truncated string with no browser product token (every browser sends
    # Chrome/, Firefox/ or Safari/ after AppleWebKit); a common default of scraping scripts.
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
}


def browsers() -> list[str]:
    rows = (DATA / "ua" / "browsers.txt").read_text("utf-8").splitlines()
    return [ua for ua in rows if ua not in NOT_BROWSERS]


def ai_robots_names() -> list[str]:
    return list(json.loads((DATA / "ai-robots-txt" / "robots.json").read_text("utf-8")))


@dataclass
class Figure:
    name: str
    hits: int
    total: int
    misses: list[str]

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def line(self) -> str:  # for the browser figure, `hits` counts false positives
        return f"{self.name:<44} {self.hits:>5}/{self.total:<5} {100 * self.rate:7.2f}%"


def _figure(name: str, items: list[str], ok: list[bool]) -> Figure:
    misses = [ua for ua, good in zip(items, ok, strict=True) if not good]
    return Figure(name, len(items) - len(misses), len(items), misses)


def measure(classifier: UAClassifier) -> dict[str, Figure]:
    """Recall per labelled group and the browser false-positive rate."""
    labelled = bots()
    all_bots = [ua for ua, _ in labelled]
    ai = [ua for ua, tags in labelled if "ai-crawler" in tags]
    libs = [ua for ua, tags in labelled if "http-library" in tags]
    names = ai_robots_names()
    ai_cats = {"ai-training", "ai-search", "ai-assistant", "ai-dataset"}

    def cat(ua: str) -> str:
        agent = classifier.classify(ua).agent
        return agent.category if agent else ""

    figures = [
        _figure(
            "bots (crawler-user-agents), recall",
            all_bots,
            [classifier.classify(u).is_bot for u in all_bots],
        ),
        _figure(
            "AI crawlers (crawler-user-agents), recall",
            ai,
            [classifier.classify(u).is_bot for u in ai],
        ),
        _figure(
            "HTTP libraries (crawler-user-agents), recall",
            libs,
            [classifier.classify(u).is_bot for u in libs],
        ),
        _figure(
            "ai.robots.txt agents, recognised + categorised", names, [bool(cat(n)) for n in names]
        ),
        _figure(
            "ai.robots.txt agents in an AI category", names, [cat(n) in ai_cats for n in names]
        ),
        _figure(
            "scraper tools, category scraper-tool",
            list(SCRAPER_TOOLS),
            [cat(u) == "scraper-tool" for u in SCRAPER_TOOLS],
        ),
        _figure(
            "headless browsers, category headless-browser",
            HEADLESS,
            [cat(u) == "headless-browser" for u in HEADLESS],
        ),
        _figure(
            "dataset downloaders, category ai-dataset",
            AI_DATASET,
            [cat(u) == "ai-dataset" for u in AI_DATASET],
        ),
        _figure(
            "real browsers (user-agents), flagged as bots",
            browsers(),
            [classifier.classify(u).is_bot for u in browsers()],
        ),
    ]
    return {f.name: f for f in figures}
