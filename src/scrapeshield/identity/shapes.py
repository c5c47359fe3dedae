"""Plans by shape: what a request queues follows from its shape (its kind, whether it has a
token and how young it is, the windows of the clock, which previous hours this process already
knows) and from four strings of its client (its visitor id, address, network and header
fingerprint). A `Template` is a plan made once per shape with a marker for each of the four,
shared by every client of that shape; a client's plan is the template with its strings put in,
by one `str.format` of all the template's strings at once (~15 µs a new client's plan in a
loop over 3,000 of one shape, where making it afresh cost ~25: docs/architecture.md, "Many
clients").

A marker is put in where `subject_key` writes a subject (`{<subject>}`), so the filled keys are
those the client's own plan would hold, as long as no string holds a brace (a subject with one
is written as a digest: `store.keys.tag`) or the separator: the detector makes such a client's
plan afresh (`plain`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from scrapeshield.identity.plan import Plan

VISITOR, CLIENT, NETWORK, FINGERPRINT = "\0v", "\0a", "\0n", "\0f"
"""The markers of the four strings, in the order `Template.fill` takes them."""
MARKERS = (VISITOR, CLIENT, NETWORK, FINGERPRINT)
_SEPARATOR = "\x01"


def plain(values: Sequence[str]) -> bool:
    """Whether a template can take these strings (no brace, no separator)."""
    text = "".join(values)
    return "{" not in text and "}" not in text and _SEPARATOR not in text


class Template:
    """A plan with markers for the client's strings, and where each of its strings goes."""

    __slots__ = (
        "_args",
        "_fills",
        "_format",
        "_ops",
        "_plan",
        "_prev",
        "_previous",
        "_reads",
        "_subjects",
        "_visitor",
    )

    def __init__(self, plan: Plan) -> None:
        strings: dict[str, int] = {}

        def at(text: str) -> int:
            return strings.setdefault(text, len(strings))

        self._plan = plan
        self._ops = tuple((code, at(key), at(member), ttl) for code, key, member, ttl in plan.ops)
        self._prev = tuple(at(key) for key in plan.prev_keys)
        self._reads = tuple(
            (i, place, prev, spent, mark, tuple(at(s) for s in own))
            for i, place, prev, _, spent, mark, own in plan.reads
        )
        self._subjects = tuple(at(s) for s in plan.subjects)
        self._visitor = at(plan.visitor)
        _, args, _ = plan.call
        self._args = args
        self._fills = tuple(
            (i, at(arg)) for i, arg in enumerate(args) if isinstance(arg, str) and "\0" in arg
        )
        self._format = _format(strings)
        self._previous = _format(plan.prev_keys)  # (to learn which are known: `previous`)

    @property
    def prev_keys(self) -> tuple[str, ...]:
        """The previous hours' keys, with markers (a client's: `previous`)."""
        return self._plan.prev_keys

    def strings(self, values: Sequence[str]) -> list[str]:
        """Every string of the plan with the client's `values` (as `MARKERS`) put in, in the
        order `__init__` met them: what `fill` reads."""
        return self._format.format(*values).split(_SEPARATOR)

    def previous(self, values: Sequence[str]) -> list[str]:
        """The client's previous hours' keys ("" for a day budget), its `values` put in those
        alone: which counts this process knows decides the template its `strings` come from."""
        if not self._plan.prev_keys:
            return []
        return self._previous.format(*values).split(_SEPARATOR)

    def fill(self, s: Sequence[str], known: Sequence[int], cache_key: tuple[object, ...]) -> Plan:
        """The client's plan: `s` its `strings`, `known` its previous hours' counts this
        process knows, per budget (0 where none)."""
        ops = tuple([(code, s[key], s[member], ttl) for code, key, member, ttl in self._ops])
        args: list[Any] = list(self._args)
        for i, string in self._fills:
            args[i] = s[string]
        p = self._plan
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
            tuple(
                [
                    (i, place, prev, known[n], spent, mark, tuple([s[o] for o in own]))
                    for n, (i, place, prev, spent, mark, own) in enumerate(self._reads)
                ]
            ),
            p.learns,
            (tuple([op[1] for op in ops]), tuple(args), p.call[2]),
            tuple([s[i] for i in self._subjects]),
            None,
        )


def _format(strings: Iterable[str]) -> str:
    """The strings joined by the separator, as a `str.format` text with the markers its
    fields (the braces of the strings themselves doubled)."""
    text = _SEPARATOR.join(strings).replace("{", "{{").replace("}", "}}")
    for n, marker in enumerate(MARKERS):
        text = text.replace(marker, f"{{{n}}}")
    return text
