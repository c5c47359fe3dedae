"""Alternations that keep `re` fast: a pattern's top-level alternatives, each keyed on one of a
few letters and grouped by that character, and names that must start a word written literal first
(uarules' name patterns).

`re` tries every alternative of an alternation at every position of the text, and an
alternative that starts with an assertion (`\\b`, `\\A`, a lookbehind) costs the whole pattern
its literal scan; these build patterns that match the same texts without either cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["alternatives", "at_word_start", "by_first_letter"]


def _scan(pattern: str) -> Iterator[tuple[str, int, bool]]:
    """Each character of `pattern`, the group depth after it, and whether it is syntax (outside
    escapes and character classes)."""
    depth, in_class, escaped, previous = 0, False, False, ""
    for char in pattern:
        syntax = False
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or previous == "["
        elif char == "[":
            in_class = True
        else:
            syntax = True
            depth += {"(": 1, ")": -1}.get(char, 0)
        previous = char
        yield char, depth, syntax


def alternatives(pattern: str) -> list[str]:
    """`pattern`'s top-level alternatives (outside groups and character classes)."""
    parts: list[str] = []
    current: list[str] = []
    for char, depth, syntax in _scan(pattern):
        if syntax and char == "|" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


# A literal character of a pattern: anything but the metacharacters, or an escaped punctuation
# mark ("\\.", "\\ "); "\\d", "\\b" and the like end a literal.
_LITERAL = re.compile(r"[^.^$*+?{}\[\]\\|()]|\\[^0-9A-Za-z]")
# The letters an alternative is keyed on: the first vowel of its literal (but "u"), else the
# first of five consonants. `re` tries a pattern wherever one of its first characters is, so the
# fewer the cue search has, the fewer places it starts: the 16 alternatives with no vowel
# ("http", "khtml", "cldc-", "mmp/"...) and the "u"-only ones ("slurp", "uc ?browser") kept theirs,
# 15 in all; keyed so, 10 (2026-12-06: 12.1 -> 9.0 µs a cue search of 512 random printable
# characters, 15.1 -> 11.1 of random agent characters, 16.2 -> 12.2 of X11 + random words).
_VOWELS = "aeio"
_CONSONANTS = "hlprw"
_QUANTIFIERS = ("?", "*", "+", "{")


def _literal_head(alternative: str) -> list[str]:
    """The literal `alternative` starts with, one character (or escape) an entry; a character
    a quantifier follows is not part of it."""
    literal: list[str] = []
    for found in _LITERAL.finditer(alternative):
        if (
            found.start() != sum(map(len, literal))
            or alternative[found.end() :][:1] in _QUANTIFIERS
        ):
            break
        literal.append(found.group())
    return literal


def _flattened(alternative: str) -> list[str]:
    """A grouped alternative as by_first_letter writes it ("a(?:corn|rachne)", "a(?:c(?:orn|
    id)|rachne)") as the alternatives it groups ("acorn", "acid", "arachne"), so grouped
    patterns can be combined: a literal, then one group to the end, taken apart recursively."""
    head = "".join(_literal_head(alternative))
    group = alternative[len(head) :]
    if not (head and group.startswith("(?:") and group.endswith(")")):
        return [alternative]
    depths = [depth for _, depth, _ in _scan(group)]
    if 0 in depths[:-1]:  # the group closes before the end ("a(?:b)c(?:d)"): not one group
        return [alternative]
    return [head + flat for tail in alternatives(group[3:-1]) for flat in _flattened(tail)]


def from_key(alternative: str) -> str:
    """The alternative matched from the first key letter of the literal it starts with (a vowel,
    else a consonant of `_CONSONANTS`), the characters before it checked by a lookbehind after
    that literal ("nokia" -> "okia(?<=nokia)", "2png" -> "png(?<=2png)"): it matches the same
    texts, and `re` starts it only where a key letter is. Keyed again, it stays as it is."""
    literal = _literal_head(alternative)
    key = next((i for i, char in enumerate(literal) if char in _VOWELS), None)
    if key is None:
        key = next((i for i, char in enumerate(literal) if char in _CONSONANTS), 0)
    if key == 0:  # none, or the first character: as written
        return alternative
    head = "".join(literal)
    return f"{''.join(literal[key:])}(?<={head}){alternative[len(head) :]}"


def _trie(alternatives: list[str]) -> str:
    """The alternatives with each leading literal character written once, the alternatives
    that share it grouped after it, recursively ("ate|atom|apple" -> "a(?:t(?:e|om)|pple)"):
    `re` tries an alternation's branches one by one, so at a candidate position one test of
    a character passes over every branch it does not start; those with no literal left come
    last. Matches start where they did (a branch's order decides only which one matches)."""
    children: dict[str, list[str]] = {}
    ends: list[str] = []
    for alternative in alternatives:
        head = _literal_head(alternative)
        if head:
            children.setdefault(head[0], []).append(alternative[len(head[0]) :])
        else:
            ends.append(alternative)
    grouped = [
        first + (tails[0] if len(tails) == 1 else f"(?:{_trie(tails)})")
        for first, tails in children.items()
    ]
    return "|".join(grouped + ends)


def by_first_letter(pattern: str) -> re.Pattern[str]:
    """`pattern` with its alternatives keyed on a few letters (`from_key`) and grouped by their
    first character, then within a group by the next, and so on (`_trie`: "acorn|arachne|nokia"
    -> "a(?:corn|rachne)|okia(?<=nokia)"). `re` tries every alternative at every position of
    the text; grouped, one test of a character passes over a whole group, and with nearly every
    alternative starting at one of a few letters, `re`'s first-character scan skips every other
    character in C (per search of 512 random user-agent characters, uarules' names and engines
    as one pattern: 27 µs grouped by first letter, 12 by vowel; round ten: 88 as written;
    round sixteen, grouped letter by letter, the cue search 18-34 -> 15-26 µs on the hostile
    lines, 2.8 -> 1.8 on corpus agents; keyed on four vowels and five consonants, `_VOWELS`).
    Whether and where the text first matches is unchanged (the rules ask only that); a grouped
    pattern's `.pattern` can be grouped again."""
    keyed: list[str] = []
    rest: list[str] = []
    for part in alternatives(pattern):
        for alternative in map(from_key, _flattened(part)):
            first = alternative[:1]
            literal = first.isalnum() and first.isascii()
            (keyed if literal and alternative[1:2] not in _QUANTIFIERS else rest).append(
                alternative
            )
    return re.compile("|".join(([_trie(keyed)] if keyed else []) + rest))


def at_word_start(*names: str) -> str:
    """Alternatives that match only where a word starts ("sony", not "...sony"), each literal
    first so `re` keeps its literal scan (a leading lookbehind costs it: per search of 512
    random characters 26 µs against 18 for uaclass's _HARDWARE, 12 against 6 for _LEGACY_OS);
    "name|check" adds a check after the name ("beos|\\b")."""
    alternatives = []
    for entry in names:
        name, _, check = entry.partition("|")
        literal = re.escape(name)
        alternatives.append(f"{literal}(?<![a-z0-9]{literal}){check}")
    return "|".join(alternatives)
