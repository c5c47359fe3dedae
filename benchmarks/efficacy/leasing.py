"""Adversaries that would exploit leases (docs/leases.md): a clean client skips the detectors
for a few identical requests of one kind, its requests counted later. The cheapest ways to
try to turn that into originals:

- `lease-page-bursts`: Chrome headers; each artwork's page is loaded `burst` times in a row
  (reloads: the same inputs, so after the first they ride a lease), then its original, paced;
  if leased pages went uncounted, the original's checks would see fewer pages than were sent,
  and if they were counted twice, more.
- `lease-alternating`: Chrome headers whose Accept-Language changes on every request, so each
  request has other inputs than the lease before it and gets a fresh evaluation (and, when
  clean, a fresh lease): page + original per artwork, paced.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.core import BROWSERLIKE, Ledger
from benchmarks.efficacy.harvest import Harvester, _Visitor
from benchmarks.efficacy.headers import HeaderSet, chrome

LANGUAGES = ("en-US,en;q=0.9", "en-GB,en;q=0.8")


@dataclass
class PageBursts(Harvester):
    burst: int = 8

    def _artwork(
        self, visitor: _Visitor, headers: HeaderSet, base: str, artwork: int, ledger: Ledger
    ) -> bool:
        for _ in range(self.burst - 1):  # reloads before the visit the harvester makes
            if ledger.done():
                return False
            self._visit(visitor, headers, base, f"/artworks/{artwork}", ledger)
        return super()._artwork(visitor, headers, base, artwork, ledger)


class _Alternating(HeaderSet):
    """A header set whose Accept-Language changes with every request it builds."""

    def __init__(self, inner: HeaderSet) -> None:
        super().__init__(inner.family, inner.source, inner.kinds)
        object.__setattr__(self, "_turn", [0])  # (a frozen dataclass: a mutable counter)

    def _build(self, kind: str, base: str, referer: str | None) -> list[tuple[str, str]]:
        turn: list[int] = self.__dict__["_turn"]
        turn[0] += 1
        language = LANGUAGES[turn[0] % 2]
        return [
            (name, language if name.lower() == "accept-language" else value)
            for name, value in super()._build(kind, base, referer)
        ]


def adversaries() -> list[Adversary]:
    threat = "lease exploit"
    return [
        PageBursts("lease-page-bursts", threat, BROWSERLIKE,
                   "Chrome headers, each artwork page loaded 8 times in a row (riding a "
                   "lease), then its original, paced", headers=chrome),
        Harvester("lease-alternating", threat, BROWSERLIKE,
                  "Chrome headers with Accept-Language changed on every request (a fresh "
                  "evaluation, and lease, each time), page + original per artwork, paced",
                  headers=lambda: _Alternating(chrome())),
    ]  # fmt: skip
