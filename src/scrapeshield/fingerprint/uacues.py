"""The cheap tests the bot heuristics (`uarules`) run before their costly searches.

Substring hints, the one cue search that stands for every search of the whole text (`after`
reads a pattern only where the cue search found something, from its first find on), the words
of an agent and its count of odd punctuation. Moved out of `uarules` (round thirteen) with no
verdict changed; the patterns the cues stand for stay there.
"""

from __future__ import annotations

import re

from scrapeshield.fingerprint.alternation import by_first_letter
from scrapeshield.fingerprint.catalogue_match import words

# Punctuation that user agents hardly use: quotes, markup, braces, `@#$%&*=?!|~^`, the backslash and
# the backtick. Random printable text is a fifth such characters (about 100 in 512); no agent of the
# labelled corpus that the rules spare holds more than 30 (an HbbTV set's agent with its XML profile
# list, a percent-encoded Android agent), the few with more are bots or injected markup. Past
# ODD_LIMIT the text is no browser's, and the verdict comes before the marker searches (phone,
# classic browser, platform and device names: ~80 µs of `re` on 512 characters).
_ODD = re.compile(r"[\"!#$%&'*<=>?@\\^`{|}~]")
ODD_LIMIT = 40
_ODD_BYTES = bytes(c for c in range(128) if _ODD.match(chr(c)))

# Non-alphanumeric ASCII to spaces: on an ASCII agent (nearly all), `translate` + `split` gives
# the words of `catalogue_match.words` in a third less time than a regex `findall`; on its bytes
# (a table of 256, one C lookup a character; `str.translate` looks each up in a dict) in half
# the time again (512 random characters: 5.1 -> 2.9 µs; corpus agents 2.6 -> 1.1).
_SEPARATORS = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256))


def agent_words(lowered: str) -> tuple[str, ...]:
    if lowered.isascii():
        return tuple(lowered.encode().translate(_SEPARATORS).decode().split())
    return words(lowered)


def spaced(lowered: str) -> str:
    """The agent's words between spaces, a space first and last: in an ASCII text every
    character other than a letter or a digit made a space, each word at its own position plus
    one (so a search can start where one of the text found something); else its words joined
    by single spaces."""
    if lowered.isascii():
        return f" {lowered.encode().translate(_SEPARATORS).decode()} "
    return f" {' '.join(words(lowered))} "


# Cheap substring tests before each costly regex: the regexes can only match where one of these
# occurs, and a random or ordinary browser agent contains none (`in` scans in C, ~0.1 µs; over
# the whole text, `map(text.__contains__, ...)` runs them without a Python frame per hint).
CONTACT_HINTS = ("http", "www.", "@", "(at)", "[at]", " at ")
DEVICE_FIELD_HINTS = ("[fb", "fbdv/", "model/", "build/", "android (")
BOT_WORD_HINTS = (
    "bot", "crawl", "spider", "scrap", "fetcher", "checker", "monitor", "validator", "archiver",
    "harvest", "indexer", "scanner", "inspector", "downloader", "synthetic", "slurp",
    "rss", "preview", "2png", "2pdf", "2jp", "2image", "topdf", "topng", "toimage",
    "extractor", "analy", "resolver", "tester",
)  # fmt: skip
# The bot-word hints as one search (keyed on vowels, alternation.by_first_letter): 29 `in` tests
# read 512 characters 29 times, 9 µs; one search 4-5 µs (1.5 on a corpus agent, 3.6 so).
BOT_WORD_HINT = by_first_letter("|".join(map(re.escape, BOT_WORD_HINTS)))
# Every cue a rule searches the whole text for before it can spare or flag an agent (contact
# hints but "@", an `in` test; bot-word hints; engine, browser and device names; for an agent
# not in browser form the platform words) as one search: where it finds none, as in ~95% of
# never-seen random agents, none of those searches can match and none runs (round thirteen:
# 20-25 µs of separate searches a hostile line's agent, 12-15 as one).
_CUES = [*(re.escape(h) for h in CONTACT_HINTS if h != "@"), BOT_WORD_HINT.pattern]


def cue_searches(
    names: re.Pattern[str], platforms: re.Pattern[str]
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The cue search for an agent in browser form (the hints and `names`: engine, browser and
    device names) and for one that is not (those and `platforms`, the platform words)."""
    cue = by_first_letter("|".join([*_CUES, names.pattern]))
    return cue, by_first_letter(f"{cue.pattern}|{platforms.pattern}")


def odd_count(lowered: str) -> int:
    """How many of `_ODD`'s characters the text holds: an ASCII text's bytes with them deleted
    (one C pass: 0.5 µs for 512 characters; `findall` builds a string of each, 1.5-8 µs)."""
    if lowered.isascii():
        raw = lowered.encode()
        return len(raw) - len(raw.translate(None, _ODD_BYTES))
    return len(_ODD.findall(lowered))


def after(
    cue: re.Match[str] | None, pattern: re.Pattern[str], lowered: str
) -> re.Match[str] | None:
    """The first match of `pattern`, one of the searches `cue` stands for: none where the cue
    search found nothing, and none before the first cue it found (read from there on)."""
    return None if cue is None else pattern.search(lowered, cue.start())
