"""Plans by shape: what a request queues follows from its shape (its kind, whether it has a
token and how young it is, the windows of the clock, which previous hours this process already
knows) and from four strings of its client (its visitor id, address, network and header
fingerprint). A `Template` is a plan made once per shape with a marker for each of the four,
shared by every client of that shape; a client's plan is the template with its strings put in,
by one `str.format` of all the template's strings at once (~15 µs a new client's plan in a
loop over 3,000 of one shape, where making it afresh cost ~25: docs/log/architecture.md, "Many
clients").

A marker is put in where `subject_key` writes a subject (`{<subject>}`), so the filled keys are
those the client's own plan would hold, as long as no string holds a brace (a subject with one
is written as a digest: `store.keys.tag`) or the separator: the detector makes such a client's
plan afresh (`plain`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from scrapeshield.identity.plan import Plan, lean

VISITOR, CLIENT, NETWORK, FINGERPRINT = "\0v", "\0a", "\0n", "\0f"
"""The markers of the four strings, in the order `Template.fill` takes them."""
MARKERS = (VISITOR, CLIENT, NETWORK, FINGERPRINT)
_SEPARATOR = "\x01"


def plain(values: Sequence[str]) -> bool:
    """Whether a template can take these strings (no brace, no separator)."""
    text = "".join(values)
    return "{" not in text and "}" not in text and _SEPARATOR not in text


class Template:
    """A plan with markers for the client's strings, and where each of its strings goes; a
    page's that may be trusted also holds its lean plan's (`plan.lean`), filled from the same
    strings."""

    __slots__ = ("_args", "_fills", "_format", "_index", "_lean", "_ops", "_owners", "_plan",
                 "_prev", "_trusted", "_visitor")  # fmt: skip
    _index: dict[str, int]  # each string's place
    _format: str

    def __init__(self, plan: Plan, base: Template | None = None) -> None:
        # a template made from another's plan (`base`: its shape's with none of the previous
        # hours known, or its page's full plan for the lean one) holds none but its base's
        # strings: it takes their places, so the strings made for the base are its own too
        strings: dict[str, int] = dict(base._index) if base is not None else {}

        def at(text: str) -> int:
            return strings.setdefault(text, len(strings))

        self._plan = plan
        codes, keys, members, ttls = plan.ops
        self._ops = (codes, tuple(at(key) for key in keys), tuple(at(m) for m in members), ttls)
        self._prev = tuple(at(key) for key in plan.prev_keys)
        # its reads' rows are numbers only, so every client of the shape whose previous hours'
        # counts are 0 shares them; their subjects are the owners, filled per client
        self._owners = tuple(at(s) for s in plan.owners)
        self._trusted = bool(plan.subjects)  # whether a page may trust them (its subjects)
        self._visitor = at(plan.visitor)
        _, args, _ = plan.call
        self._args = args
        self._fills = tuple(
            (i, at(arg)) for i, arg in enumerate(args) if isinstance(arg, str) and "\0" in arg
        )
        if base is not None and len(strings) > len(base._index):
            raise ValueError("a template made from another holds none but its strings")
        self._index = strings
        self._format = base._format if base is not None else _format(strings)
        self._lean = Template(lean(plan), self) if plan.subjects else None

    @property
    def prev_keys(self) -> tuple[str, ...]:
        """The previous hours' keys, with markers (a client's: `previous`)."""
        return self._plan.prev_keys

    def strings(self, values: Sequence[str]) -> list[str]:
        """Every string of the plan with the client's `values` (as `MARKERS`) put in, in the
        order `__init__` met them: what `previous` and `fill` read (one `str.format` a plan)."""
        return self._format.format(*values).split(_SEPARATOR)

    def previous(self, s: Sequence[str]) -> list[str]:
        """The client's previous hours' keys ("" for a day budget), from its `strings`: which
        counts this process knows decides the template its plan is filled from."""
        return [s[i] for i in self._prev]

    def fill(
        self,
        s: Sequence[str],
        known: Sequence[int],
        cache_key: tuple[object, ...],
        with_lean: bool = False,
    ) -> Plan:
        """The client's plan: `s` its `strings`, `known` its previous hours' counts this
        process knows, per budget (0 where none); `with_lean`: with its lean plan, when a
        page's (`plan.lean`, None otherwise)."""
        codes, key_at, member_at, ttls = self._ops
        keys = tuple([s[i] for i in key_at])  # (its operations' and its call's)
        ops = (codes, keys, tuple([s[i] for i in member_at]), ttls)
        args: list[Any] = list(self._args)
        for i, string in self._fills:
            args[i] = s[string]
        p = self._plan
        lean = self._lean
        owners = tuple([s[i] for i in self._owners])
        reads = p.reads  # (the shape's rows, but where a previous hour's count is known)
        if any(known):
            reads = tuple(
                [
                    (i, place, prev, known[n], spent, mark, own)
                    for n, (i, place, prev, _, spent, mark, own) in enumerate(reads)
                ]
            )
        return Plan(
            p.kind,
            ops,
            p.path_at,
            s[self._visitor],
            p.pool,
            p.issuance,
            p.amnesia,
            p.newcomers_at,
            p.prev_at,
            p.rest_at,
            tuple([s[i] for i in self._prev]),
            cache_key,
            reads,
            p.learns,
            (keys, tuple(args), p.call[2]),
            owners if self._trusted else (),
            owners,
            tuple(lean.fill(s, (), cache_key)) if with_lean and lean is not None else None,
        )


def _format(strings: Iterable[str]) -> str:
    """The strings joined by the separator, as a `str.format` text with the markers its
    fields (the braces of the strings themselves doubled)."""
    text = _SEPARATOR.join(strings).replace("{", "{{").replace("}", "}}")
    for n, marker in enumerate(MARKERS):
        text = text.replace(marker, f"{{{n}}}")
    return text
