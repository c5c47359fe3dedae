"""The name patterns' cost structure (issue 16, hostile agents): what `re` runs faster must match
exactly what it did, so every verdict stays the same."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from ua_parser import Domain

from scrapeshield.fingerprint import alternation, uacues, uarules
from scrapeshield.fingerprint.uaparse import (
    PARSE_CAP,
    ParsedAgent,
    self_naming_resolver,
    shared_resolver,
)
from tests.ua_corpus import load


def test_alternatives_keyed_on_a_vowel_match_what_they_did() -> None:
    """`by_first_letter` starts each alternative at the first key letter of its leading literal
    (a vowel but "u", else h, l, p, r or w), the letters before it checked by a lookbehind
    ("nokia" -> "okia(?<=nokia)", "slurp" -> "lurp(?<=slurp)"), so `re` starts the
    pattern only at a few characters; a grouped pattern can be grouped again with others (the
    rules combine their name lists). Whether a text matches must not change."""
    source = (
        r"nokia|mac ?os ?x|msie \d|smart-?tv|risc\ os(?<![a-z0-9]risc\ os)|series ?[0-9]0|"
        r"up\.browser|w3m(?<![a-z0-9]w3m)|sony(?<![a-z0-9]sony)|(?:x|y)ab|a\(b\)|khtml|"
        r"ios(?<!\wios)\b|opera [0-9](?<=\Aopera [0-9])|b[ae]ll|to\ pdf|ei{2}|slurp"
    )
    plain, keyed = re.compile(source), alternation.by_first_letter(source)
    regrouped = alternation.by_first_letter(
        f"{keyed.pattern}|{alternation.by_first_letter('zz').pattern}"
    )
    assert alternation.from_key("nokia") == "okia(?<=nokia)"
    assert alternation.from_key("mac ?os ?x") == "ac(?<=mac) ?os ?x"
    assert alternation.from_key("opera") == "opera"  # a vowel first: as written
    assert alternation.from_key("up\\.browser") == "owser(?<=up\\.browser)"  # not on "u"
    assert alternation.from_key("2png") == "png(?<=2png)"  # no vowel: on a consonant of five
    assert alternation.from_key("khtml") == "html(?<=khtml)"
    assert alternation.from_key("68k") == "68k"  # none of them: as written
    assert alternation.from_key(alternation.from_key("2png")) == "png(?<=2png)"
    assert {a[0] for a in alternation.alternatives(keyed.pattern)} <= set("aeiowhl(b")
    rng = random.Random(2)
    alphabet = "nokiamcsxe dtvrp.bwuhl3y()09 zi"
    texts = ["".join(rng.choices(alphabet, k=rng.randint(1, 14))) for _ in range(40_000)]
    texts += ["nokia", "xnokia", "macosx", "mac os x", "msie 6", "risc os", "xrisc os", "ei", "eii"]
    texts += ["opera 7", "x opera 7", "ios", "xios", "a(b)", "bell", "zz", "to pdf", "sony"]
    texts += ["slurp", "xslurp", "lurp", "up.browser", "p.browser", "khtml", "html"]
    for text in texts:
        expected = bool(plain.search(text))
        assert bool(keyed.search(text)) == expected, text
        assert bool(regrouped.search(text)) == (expected or "zz" in text), text


def test_bot_words_searched_around_hints_find_what_the_whole_text_does() -> None:
    """`_bot_word` searches `_BOT_WORDS` only around the words that hold a hint, in the text's
    own characters with every other one a space (`uacues.spaced`), from the first hint the
    text's search found on; the word it reports must be the one a search of the words joined
    by single spaces finds first."""
    rng = random.Random(4)
    pieces = "bot cubot bots crawler xcrawl rss arss preview spider checker synthetics 2png tester"
    pieces += " urltester ab x scan ner"
    for _ in range(20_000):
        words = tuple(
            "".join(rng.choices(pieces.split(), k=rng.randint(1, 2)))
            for _ in range(rng.randint(0, 6))
        )
        found = uarules._BOT_WORDS.search(" " + " ".join(words) + " ")
        expected = found.group(0).strip() if found else None
        text = "".join(w + rng.choice([" ", "; ", "/", ") (", "-", "."]) for w in words)
        hint = uacues.BOT_WORD_HINT.search(text)
        start = hint.start() + 1 if hint else 0
        assert uarules._bot_word(uacues.spaced(text), start) == expected, text
        assert uarules._bot_word(uacues.spaced(text)) == expected, text
        assert uarules._bot_word(uacues.spaced(text + "é")) == expected, text


def test_odd_punctuation_counted_on_bytes_as_by_the_pattern() -> None:
    for text in ('a"b<>{x}', "plain text", 'é"ü<>' * 3, "\ud800<", "`~|^\\@", ""):
        assert uacues.odd_count(text) == len(uacues._ODD.findall(text)), text


def test_one_cue_search_finds_whatever_a_search_it_stands_for_would() -> None:
    """`_CUE` (and, for agents not in browser form, `_CUE_OR_PLATFORM`) stands for the contact
    hints, the bot-word hints and the name searches: where it finds nothing, the rules skip
    them, and where it finds something they read from its first match on. So it must find
    something wherever one of them would, and nothing after any of their first matches: read
    from there, each finds the match it finds in the whole text (`_bot_reason` starts the
    bot-word search at the hint's)."""
    names = [uacues.BOT_WORD_HINT, uarules._ENGINE_OR_MARK_OR_DEVICE, uarules._ENGINE_OR_MARK]
    names += [uarules._PHONE, uarules._CLASSIC, uarules._LEGACY_OS]
    rng = random.Random(5)
    pieces = [*uacues.BOT_WORD_HINTS, *uacues.CONTACT_HINTS, "nokia", "gecko/", "khtml", "x"]
    pieces += ["amiga", "xamiga", "htc", "sony", "midp-", "ios", "xios", "iphone", "dalvik", " "]
    pieces += ["opera 7", "mozilla/", "windows", "windows/", "player", "kindle", "w3m", "lg-"]
    texts = ["".join(rng.choices(pieces, k=rng.randint(1, 4))) for _ in range(30_000)]
    texts += ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789 ;/()._-", k=80))
              for _ in range(10_000)]  # fmt: skip
    for text in texts:
        contact = any(h in text for h in uacues.CONTACT_HINTS if h != "@")
        cue = uarules._CUE.search(text)
        assert bool(cue) >= contact, text
        for pattern in names:
            assert _span(uacues.after(cue, pattern, text)) == _span(pattern.search(text)), text
        cue = uarules._CUE_OR_PLATFORM.search(text)
        assert bool(cue) >= contact, text
        for pattern in (*names, uarules._PLATFORM_WORDS):
            assert _span(uacues.after(cue, pattern, text)) == _span(pattern.search(text)), text


def _span(found: re.Match[str] | None) -> tuple[int, int] | None:
    return found.span() if found else None


class _Counted:
    """A compiled pattern that counts its searches."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.texts, self.starts = pattern, list[str](), list[int]()

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        self.texts.append(text)
        self.starts.append(pos)
        return self.pattern.search(text, pos)


def test_an_agent_without_a_cue_is_judged_without_the_name_searches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the one cue search finds nothing, the hints, names, engines, devices and platform
    words are not searched apart (20-25 µs on a never-seen agent of 512 characters); the
    verdict is the one those searches would give."""
    names = ("BOT_WORD_HINT", "_ENGINE_OR_MARK_OR_DEVICE", "_ENGINE_OR_MARK", "_PLATFORM_WORDS")
    counted = {name: _Counted(getattr(uarules, name)) for name in names}
    for name, spy in counted.items():
        monkeypatch.setattr(uarules, name, spy)
    agents = {
        "Qzv/1.0 (Xyz; Qq 7) Zzk/2": "a program's own product token",
        "Mozilla/5.0 (X11; Qzv) Zzk Qrst Vwx": "Mozilla/ prefix but no browser",
    }
    for agent, reason in agents.items():
        lowered = agent.lower()
        parsed = ParsedAgent(agent, shared_resolver(), self_naming_resolver(uacues.BOT_WORD_HINTS))
        assert uarules._bot_reason(lowered, parsed).startswith(reason)
        # the agent's text is not searched (the family ua-parser gives may be, for a bot word)
        assert {name: spy.texts.count(lowered) for name, spy in counted.items()} == dict.fromkeys(
            names, 0
        )
    spared = "Qzv/1.0 (Nokia 3310) Zzk/2".lower()
    parsed = ParsedAgent(spared, shared_resolver(), self_naming_resolver(uacues.BOT_WORD_HINTS))
    assert uarules._bot_reason(spared, parsed) == ""
    assert counted["_ENGINE_OR_MARK_OR_DEVICE"].texts == [spared]
    assert counted["_ENGINE_OR_MARK_OR_DEVICE"].starts == [spared.index("okia")]  # from the cue


def test_placeholder_search_starts_at_a_slash_and_matches_what_it_did() -> None:
    """`_PLACEHOLDER` leads with the slash and checks the product's name behind it, so `re`
    starts it only at a slash; whether a text matches is that of the name-first form."""
    name_first = re.compile(
        r"(?:chrome(?<![a-z]chrome)|firefox(?<![a-z]firefox)|safari(?<![a-z]safari)"
        r"|gecko(?<![a-z]gecko))/(?:[a-z]\.[a-z]|[a-z]*(?:version|trail))"
    )
    assert uarules._PLACEHOLDER.pattern.startswith("/")
    rng = random.Random(6)
    pieces = ["chrome", "firefox", "safari", "gecko", "x", "/", "w.x", "version", "trail", " "]
    pieces += ["1.0", "a", ".", "geckotrail", "firefoxversion", "/w.x.y.z", "xchrome"]
    texts = ["".join(rng.choices(pieces, k=rng.randint(1, 6))) for _ in range(40_000)]
    texts += ["chrome/w.x.y.z", "firefox/firefoxversion", "gecko/geckotrail", "xsafari/a.b"]
    for text in texts:
        assert bool(uarules._PLACEHOLDER.search(text)) == bool(name_first.search(text)), text


def test_the_extractors_asked_directly_answer_what_the_resolver_does() -> None:
    """`ParsedAgent` asks ua-parser's Rust extractors without the resolver's wrapping: the same
    browser family and version, OS family and self-naming verdict as the resolver's answer, on
    real agents of every kind and on random ones."""
    agents = [sample.ua for sample in load()[::200]]  # every 200th agent: every source
    agents += ["OpenVAS/9.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) PTST/221013.112233"]
    rng = random.Random(16)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ;/()._-"
    agents += ["Mozilla/5.0 (" + "".join(rng.choices(alphabet, k=200)) for _ in range(200)]
    resolver, naming = shared_resolver(), self_naming_resolver(uacues.BOT_WORD_HINTS)
    named = 0
    for agent in agents:
        parsed = ParsedAgent(agent, resolver, naming)
        text = agent[:PARSE_CAP]
        browser = resolver(text, Domain.USER_AGENT).user_agent
        os = resolver(text, Domain.OS).os
        expected = (
            browser.family if browser else "Other",
            browser.major or "" if browser else "",
            os.family if os else "Other",
        )
        assert parsed.answer == expected, agent
        names = naming(text, Domain.USER_AGENT).user_agent is not None
        assert parsed.may_name_a_bot is names, agent
        named += names
    assert len(agents) > 3_000  # the corpus was read
    assert named > 0  # and some agents name a bot


def test_screen_size_keyed_on_the_x_finds_what_the_digit_led_search_did() -> None:
    """`_SCREEN` starts at the "x" (a fast literal scan) and checks the digits behind it; the
    digit-led form it replaced is the reference, on every text of up to 8 of these characters."""
    reference = re.compile(r"[0-9](?<![0-9][0-9])[0-9]{2,3}[*x][0-9]{3,4}(?![0-9])")
    for length in range(1, 9):
        for chars in itertools.product("0x*a", repeat=length):
            text = "".join(chars)
            assert uarules._screen(text) == bool(reference.search(text)), text


def test_grouping_letter_by_letter_moves_no_match_start() -> None:
    """`by_first_letter` writes the vowel-keyed alternatives as a trie; the cue search's start
    is where the searches it stands for begin (`uacues.after`), so every text's first match
    must start where the vowel-keyed alternatives written one after another start it."""
    source = uarules._ENGINE_OR_MARK_OR_DEVICE.pattern + "|bots?|bot|ate|atom|a(?:t|p)x|e\\)"
    flat = [
        alternation.from_key(a)
        for part in alternation.alternatives(source)
        for a in alternation._flattened(part)
    ]
    plain, trie = re.compile("|".join(flat)), alternation.by_first_letter(source)
    rng = random.Random(5)
    alphabet = "abotemxp)(;/ kihnlsw2.0"
    texts = ["".join(rng.choices(alphabet, k=rng.randint(1, 16))) for _ in range(30_000)]
    texts += [
        "mozilla/5.0 (linux; android 14; cubot kingkong 9) applewebkit/537.36 (khtml, like gecko)",
        "opera/9.80 (j2me/midp; opera mini/4.2.14912/870; u; id) presto/2.4.15",
        "sonyericssonk750i/r1ca browser/semc-browser/4.2 profile/midp-2.0 configuration/cldc-1.1",
    ]
    for text in texts:
        expected = plain.search(text)
        found = trie.search(text)
        assert (found and found.start()) == (expected and expected.start()), text
