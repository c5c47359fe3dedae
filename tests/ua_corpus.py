"""The labelled user-agent corpus (tests/data/ua/corpus.tsv.gz): loading, labels, split, year.

Built by scripts/fetch_ua_corpora.py from public packages (tests/data/ua/MANIFEST.toml lists
each with its version and licence). Each agent gets one label:

- `bot` if any source labels it a bot (a crawler list, Matomo's bots and HTTP libraries,
  uap-core's Spider devices, browscap's crawlers...): a list of bots is more deliberate than a
  sample of traffic; also an agent naming an automation engine (`AUTOMATION`) or listed in
  `NOT_BROWSERS`;
- else `browser` if a browser source lists it (user-agents' and top-user-agents' traffic
  samples, Matomo's, browscap's, WhichBrowser's, yauaa's and isbot's browsers, Matomo's in-app
  browsers, uap-core's device agents in browser form);
- else `app` (apps and players that are not browsers: reported, not held to a target);
- else `spoofed`: an agent only user-agents' traffic sample lists, and only with a
  navigator.platform its agent contradicts ("DESKTOP", "selenium" or a Windows agent sent from
  "Linux x86_64": a script's or a user-agent switcher's override; scripts/fetch_ua_corpora.py).
  Reported apart, held to no target;
- `ai-shared`, `garbage` or `named-bot` instead of `browser` for label noise (`NOISE` and
  `NAMED_BOTS`, below);
- `synthetic` instead of `browser` for an agent only user-agents lists whose Chrome build
  number does not belong to its major version (`synthetic_chrome`): ~353,000 of its agents,
  Chrome 41-60 with random builds ("Chrome/58.0.9441.1436"), are a user-agent generator's
  output captured in its traffic sample, not browsers. Reported apart, held to no target.

The split is by a hash of the agent string, so it is deterministic and independent of the
source order: `dev` is the half heuristics may be tuned on, `eval` the half the targets are
asserted on (tests/test_ua_quality.py). The dev half is cut again by the same hash into `dev-A`
(whose misses changes are decided on) and `dev-B` (held out within dev: a change must not hurt
it), so that a rule fitted to the agents it was read from shows as a dev-A/dev-B gap.

Round six added sources for development only (`DEV_ONLY`; round nine five more, round
thirteen seven, round fourteen ten): an agent that only they list forms the `dev-new` pool,
whatever its hash (changes are decided on dev-A and dev-new); their rows for an agent the other
sources list are not read, so every agent of dev-A, dev-B and eval keeps its half, its label
and its tags.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

CORPUS = Path(__file__).parent / "data" / "ua" / "corpus.tsv.gz"

# Automation engines, whatever a fixture calls them (browscap types HeadlessChrome as a
# browser): scrapeshield challenges them as headless browsers by design (docs/detection.md).
AUTOMATION = re.compile(r"HeadlessChrome\b|PhantomJS/|SlimerJS/|wkhtmlto(?:pdf|image)")

# Label noise, by general rules applied to both halves (docs/detection.md), each a label of its
# own that no target counts:
# - `ai-shared`: VS Code's Electron shell ("... Code/1.102.0 Chrome/134... Electron/35...").
#   ai.robots.txt lists `Code` (with name and version) for the editor's AI coding agent, whose
#   page fetches come from that same shell with the same string as a webview: the agent string
#   cannot tell the two apart, and the AI rule decides (blocked, by design).
# - `garbage`: markup or a header's own name in the agent (an injection test, a copied log line:
#   `"><script src=...>`, `User-Agent: Mozilla/4.07 ...`): sent by a script, not a browser.
NOISE = {
    "ai-shared": re.compile(r"\bCode/\d[\d.]* Chrome/[\d.]+ Electron/"),
    "garbage": re.compile(r"<\s*/?\s*(?:script|x|img|svg)\b|\"><|\AUser-Agent:", re.IGNORECASE),
}
# - `named-bot`: an agent a browser source lists but that a named entry of Matomo Device
#   Detector's bot list (bots.yml, device_detector 6.5.1, not its "Generic Bot" heuristics)
#   matches: a product that list knows as a bot (`... Safari/537.36; Bytespider`, `(KHTML,
#   like Gecko; compatible; pageburst)`), an external criterion, not scrapeshield's own
#   catalogue. Matching 841 patterns takes minutes: scripts/ua_named_bots.py keeps the matches.
NAMED_BOTS = CORPUS.with_name("named-bots.tsv")
NOISE_LABELS = (*NOISE, "named-bot")

# Sources added in round six for development only (docs/detection.md, "Quality"): Crawler-Detect's
# fixtures (PyPI crawlerdetect), woothee's testsets, bowser's and Mobile-Detect's test agents;
# round nine's: fnando/browser's, ua-parser-js 1.0.41's, Browser.php's, platform.js's and uap-core's
# other tests; round thirteen's: fake-useragent's data file, PhpUserAgent's, jenssegers/agent's,
# projectdiscovery/useragent's, mileusna/useragent's, uasurfer's and HTTP::BrowserDetect's
# agents; round fourteen's: arcjet/well-known-bots', top-crawler-agents', mssola/useragent's,
# user-agent-utils', gshutler/useragent's, express-useragent's, httpagentparser's,
# Parse::HTTP::UserAgent's, agentzero's and voxtechnica/user-agent's; round fifteen's: Matomo
# Device Detector's own fixtures (upstream, with the parser tests the PyPI port lacks) and OWASP
# CRS's scanner-detection tests.
DEV_ONLY = frozenset(
    {
        "crawlerdetect",
        "woothee",
        "bowser",
        "mobile-detect",
        # round nine (2026-12-05)
        "fnando-browser",
        "ua-parser-js",
        "browser-php",
        "platform.js",
        "uap-core-tests",
        # round thirteen (2026-12-05)
        "fake-useragent",
        "php-user-agent",
        "jenssegers-agent",
        "projectdiscovery-useragent",
        "mileusna-useragent",
        "uasurfer",
        "http-browserdetect",
        # round fourteen (2026-12-06)
        "well-known-bots",
        "top-crawler-agents",
        "mssola-useragent",
        "user-agent-utils",
        "gshutler-useragent",
        "express-useragent",
        "httpagentparser",
        "parse-http-useragent",
        "agentzero",
        "voxtechnica-useragent",
        # round fifteen (2026-12-06)
        "matomo-upstream",
        "coreruleset-scanners",
    }
)


@lru_cache(maxsize=1)
def named_bots() -> frozenset[str]:
    lines = NAMED_BOTS.read_text("utf-8").splitlines()
    return frozenset(line.split("\t", 1)[1] for line in lines if not line.startswith("#"))


# Listed by a browser corpus but sent by no browser: relabelled bot, each with the reason.
NOT_BROWSERS = {
    # top-user-agents: a truncated string with no browser product token (every browser sends
    # Chrome/, Firefox/ or Safari/ after AppleWebKit); a common default of scraping scripts.
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36": "truncated, no browser token",
}


@dataclass
class Sample:
    ua: str
    label: str
    sources: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    new: bool = False  # only DEV_ONLY sources list it: the dev-new pool

    @property
    def half(self) -> str:
        return "dev-new" if self.new else split(self.ua)

    @property
    def is_ai(self) -> bool:
        return "ai-crawler" in self.tags


def split(ua: str) -> str:
    """`dev` or `eval`, from the first byte of the agent's BLAKE2b digest."""
    return "dev" if hashlib.blake2b(ua.encode(), digest_size=1).digest()[0] < 128 else "eval"


def nested_split(ua: str) -> str:
    """`dev-A`, `dev-B` or `eval`: the dev half cut in two by the same byte (below 64, 64-127).
    Changes are decided on dev-A's misses; dev-B, never listed, stands in for unseen agents."""
    byte = hashlib.blake2b(ua.encode(), digest_size=1).digest()[0]
    return "dev-A" if byte < 64 else "dev-B" if byte < 128 else "eval"


def in_half(sample: Sample, half: str) -> bool:
    """Whether the sample belongs to `half`: `dev`, `eval`, `dev-A`, `dev-B` or `dev-new`."""
    if sample.new or half == "dev-new":
        return sample.new and half == "dev-new"
    return (nested_split(sample.ua) if half.startswith("dev-") else sample.half) == half


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic collector off while the corpus is built or measured: each collection
    would walk every one of the ~800,000 samples (and sets) made so far, none of them garbage,
    which took half of `load`'s time (about 20 s of the suite's)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@lru_cache(maxsize=1)
def load() -> tuple[Sample, ...]:
    with gc_paused():
        return _load()


def _load() -> tuple[Sample, ...]:
    rows: list[tuple[str, str, str, str]] = []
    listed: set[str] = set()  # agents a source other than DEV_ONLY lists
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            label, source, tags, ua = line.rstrip("\n").split("\t", 3)
            rows.append((label, source, tags, ua))
            if source not in DEV_ONLY:
                listed.add(ua)
    by_ua: dict[str, Sample] = {}
    labels: dict[str, set[str]] = {}
    for label, source, tags, ua in rows:
        if source in DEV_ONLY and ua in listed:
            continue
        sample = by_ua.setdefault(ua, Sample(ua, label, new=ua not in listed))
        sample.sources.add(source)
        sample.tags.update(t for t in tags.split(",") if t)
        labels.setdefault(ua, set()).add(label)
    for ua, sample in by_ua.items():
        found = labels[ua]
        bot = "bot" in found or ua in NOT_BROWSERS or bool(AUTOMATION.search(ua))
        sample.label = "bot" if bot else min(found)
        if sample.label == "browser" and sample.sources == {"user-agents"} and synthetic_chrome(ua):
            sample.label = "synthetic"
        if sample.label == "browser":
            sample.label = next((n for n, rule in NOISE.items() if rule.search(ua)), "browser")
        if sample.label == "browser" and ua in named_bots():
            sample.label = "named-bot"
        if len(found) > 1:
            sample.tags.add("conflict:" + "+".join(sorted(found)))
    return tuple(by_ua.values())


# The year a browser's engine major version was first released, from the engine token every
# browser of that engine carries (Chromium-based browsers send Chrome/; iOS browsers and
# WebKit send the iOS or Safari version). First major of each year, from the vendors'
# release calendars.
_CHROME = {2015: 40, 2016: 48, 2017: 56, 2018: 64, 2019: 72, 2020: 80, 2021: 88, 2022: 97,
           2023: 109, 2024: 121, 2025: 132, 2026: 144}  # fmt: skip
_FIREFOX = {2015: 35, 2016: 44, 2017: 51, 2018: 58, 2019: 65, 2020: 72, 2021: 85, 2022: 96,
            2023: 109, 2024: 122, 2025: 134, 2026: 147}  # fmt: skip
_SAFARI = {2015: 9, 2016: 10, 2017: 11, 2018: 12, 2019: 13, 2020: 14, 2021: 15, 2022: 16,
           2023: 17, 2024: 18, 2025: 26}  # fmt: skip
_CHROME_RE = re.compile(r"(?:Chrome|CriOS|Chromium|HeadlessChrome)/(\d+)\.")
_FIREFOX_RE = re.compile(r"(?:Firefox|FxiOS)/(\d+)")
_IOS_RE = re.compile(r"OS (\d+)_\d+(?:_\d+)? like Mac OS X")
_SAFARI_RE = re.compile(r"Version/(\d+)\.[\d.]* (?:Mobile/\S+ )?Safari/")


def _year(table: dict[int, int], major: int) -> int:
    years = [year for year, first in table.items() if major >= first]
    return max(years) if years else 2014  # "2014 or before"


def browser_year(ua: str) -> int | None:
    """The release year of the browser's engine major version; None when no engine version
    says (feature phones, Presto, IE: all older than 2022)."""
    if m := _FIREFOX_RE.search(ua):
        return _year(_FIREFOX, int(m.group(1)))
    if m := _CHROME_RE.search(ua):
        return _year(_CHROME, int(m.group(1)))
    if m := _IOS_RE.search(ua):  # every iOS browser is WebKit of the iOS version
        return _year(_SAFARI, int(m.group(1)))
    if m := _SAFARI_RE.search(ua):
        return _year(_SAFARI, int(m.group(1)))
    return None


# Chrome's build number for the first release of some majors (chromiumdash release history);
# builds in between are interpolated. A Chrome/M.0.B.P agent whose build B is far from its
# major's is not what Chrome sends: a user-agent generator made it up.
_CHROME_BUILDS = ((10, 648), (20, 1132), (30, 1599), (40, 2214), (50, 2661), (60, 3112),
                  (70, 3538), (80, 3987), (90, 4430), (100, 4896), (110, 5481), (120, 6099),
                  (130, 6723), (140, 7339), (150, 7950))  # fmt: skip
_CHROME_BUILD_RE = re.compile(r"(?:Chrome|CriOS)/(\d+)\.0\.(\d+)\.\d+")


def synthetic_chrome(ua: str) -> bool:
    """A Chrome version whose build number does not belong to its major (±120 builds)."""
    m = _CHROME_BUILD_RE.search(ua)
    if not m:
        return False
    major, build = int(m.group(1)), int(m.group(2))
    if build == 0:  # WebView and the reduced user agent (Chrome 101 on) send M.0.0.0
        return False
    for (m1, b1), (m2, b2) in itertools.pairwise(_CHROME_BUILDS):
        if m1 <= major <= m2:
            expected = b1 + (b2 - b1) * (major - m1) / (m2 - m1)
            return abs(build - expected) > 120
    return False
