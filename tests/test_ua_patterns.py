"""The name patterns' cost structure (issue 16, hostile agents): what `re` runs faster must match
exactly what it did, so every verdict stays the same."""

from __future__ import annotations

import random
import re

from scrapeshield.fingerprint import alternation, uarules


def test_alternatives_keyed_on_a_vowel_match_what_they_did() -> None:
    """`by_first_letter` starts each alternative at the first vowel of its leading literal, the
    letters before it checked by a lookbehind ("nokia" -> "okia(?<=nokia)"), so `re` starts the
    pattern only at a few characters; a grouped pattern can be grouped again with others (the
    rules combine their name lists). Whether a text matches must not change."""
    source = (
        r"nokia|mac ?os ?x|msie \d|smart-?tv|risc\ os(?<![a-z0-9]risc\ os)|series ?[0-9]0|"
        r"up\.browser|w3m(?<![a-z0-9]w3m)|sony(?<![a-z0-9]sony)|(?:x|y)ab|a\(b\)|khtml|"
        r"ios(?<!\wios)\b|opera [0-9](?<=\Aopera [0-9])|b[ae]ll|to\ pdf|ei{2}"
    )
    plain, keyed = re.compile(source), alternation.by_first_letter(source)
    regrouped = alternation.by_first_letter(
        f"{keyed.pattern}|{alternation.by_first_letter('zz').pattern}"
    )
    assert alternation.from_vowel("nokia") == "okia(?<=nokia)"
    assert alternation.from_vowel("mac ?os ?x") == "ac(?<=mac) ?os ?x"
    assert alternation.from_vowel("up\\.browser") == "up\\.browser"  # a vowel first: as written
    assert {a[0] for a in alternation.alternatives(keyed.pattern)} <= set("aeiouwk(b")
    rng = random.Random(2)
    alphabet = "nokiamcsxe dtvrp.bwuhl3y()09 zi"
    texts = ["".join(rng.choices(alphabet, k=rng.randint(1, 14))) for _ in range(40_000)]
    texts += ["nokia", "xnokia", "macosx", "mac os x", "msie 6", "risc os", "xrisc os", "ei", "eii"]
    texts += ["opera 7", "x opera 7", "ios", "xios", "a(b)", "bell", "zz", "to pdf", "sony"]
    for text in texts:
        expected = bool(plain.search(text))
        assert bool(keyed.search(text)) == expected, text
        assert bool(regrouped.search(text)) == (expected or "zz" in text), text


def test_bot_words_searched_around_hints_find_what_the_whole_text_does() -> None:
    """`_bot_word` searches `_BOT_WORDS` only around the words that hold a hint; the word it
    reports must be the one a search of the whole text finds first."""
    import random

    rng = random.Random(4)
    pieces = "bot cubot bots crawler xcrawl rss arss preview spider checker synthetics 2png tester"
    pieces += " urltester ab x scan ner"
    for _ in range(20_000):
        words = tuple(
            "".join(rng.choices(pieces.split(), k=rng.randint(1, 2)))
            for _ in range(rng.randint(0, 6))
        )
        found = uarules._BOT_WORDS.search(" " + " ".join(words) + " ")
        assert uarules._bot_word(words) == (found.group(0).strip() if found else None), words


def test_odd_punctuation_counted_on_bytes_as_by_the_pattern() -> None:
    for text in ('a"b<>{x}', "plain text", 'é"ü<>' * 3, "\ud800<", "`~|^\\@", ""):
        assert uarules._odd_count(text) == len(uarules._ODD.findall(text)), text
