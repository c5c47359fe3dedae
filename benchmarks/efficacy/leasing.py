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
- `lease-asset-keepalive`: Chrome headers; its stylesheet before every artwork page, so an
  asset lease (held across the client's other requests) is always alive: stylesheet, page,
  original per artwork, paced. Leased stylesheets are counted before its next page or original
  is judged, and add only to the asset count.
- `lease-referer-varying`: Chrome headers whose Referer names another page of the site on every
  request (its value is the one field the binding leaves out: no detector reads it for a page
  or an asset), page + original per artwork, paced.
- `lease-steady-signal`: Chrome headers without Accept-Language, on purpose: a steady signal
  (`headers/no-accept-language`, 20, allowed), which is leased since issue 19, with the
  stylesheet before every page (an asset lease always alive, no-assets quiet), page + original
  per artwork, paced. A leased request gets the decision a full evaluation would: it must take
  no original more than without leases.

Leases are on by default (again since 2026-12-07, docs/leases.md): each of these still pins
them on (`LEASES`), the configuration it attacks, whatever the default or `--set` say.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.core import BROWSERLIKE, Ledger
from benchmarks.efficacy.harvest import Harvester, _Visitor
from benchmarks.efficacy.headers import HeaderSet, chrome
from benchmarks.efficacy.server import ServerOptions

LEASES = ServerOptions(leases=True)  # on by default: pinned, as these attack them

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


@dataclass
class AssetKeepalive(Harvester):
    def _artwork(
        self, visitor: _Visitor, headers: HeaderSet, base: str, artwork: int, ledger: Ledger
    ) -> bool:
        page = visitor.page or "/"
        self._send(visitor, "asset", "/static/gallery.css", headers.style(base, page))
        return super()._artwork(visitor, headers, base, artwork, ledger)


class _Referring(HeaderSet):
    """A header set whose Referer names another artwork page with every request it builds."""

    def __init__(self, inner: HeaderSet) -> None:
        super().__init__(inner.family, inner.source, inner.kinds)
        object.__setattr__(self, "_turn", [0])

    def _build(self, kind: str, base: str, referer: str | None) -> list[tuple[str, str]]:
        turn: list[int] = self.__dict__["_turn"]
        turn[0] += 1
        return super()._build(kind, base, f"/artworks/{turn[0] % 97 + 1}" if referer else None)


def _quirky(inner: HeaderSet) -> HeaderSet:
    """The same header set without Accept-Language (a privacy browser's steady signal)."""
    kinds = {
        kind: tuple(h for h in fields if h[0].lower() != "accept-language")
        for kind, fields in inner.kinds.items()
    }
    return HeaderSet(inner.family, inner.source, kinds)


def adversaries() -> list[Adversary]:
    threat = "lease exploit"
    return [
        PageBursts("lease-page-bursts", threat, BROWSERLIKE,
                   "Chrome headers, each artwork page loaded 8 times in a row (riding a "
                   "lease), then its original, paced", headers=chrome, options=LEASES),
        Harvester("lease-alternating", threat, BROWSERLIKE,
                  "Chrome headers with Accept-Language changed on every request (a fresh "
                  "evaluation, and lease, each time), page + original per artwork, paced",
                  headers=lambda: _Alternating(chrome()), options=LEASES),
        AssetKeepalive("lease-asset-keepalive", threat, BROWSERLIKE,
                       "Chrome headers, its stylesheet before every artwork page (an asset "
                       "lease always alive), then page + original, paced", headers=chrome,
                       options=LEASES),
        Harvester("lease-referer-varying", threat, BROWSERLIKE,
                  "Chrome headers with a Referer naming another page on every request (the "
                  "one value leases do not bind), page + original per artwork, paced",
                  headers=lambda: _Referring(chrome()), options=LEASES),
        AssetKeepalive("lease-steady-signal", threat, BROWSERLIKE,
                       "Chrome headers without Accept-Language on purpose (a steady signal, "
                       "leased), its stylesheet before every artwork page, then page + "
                       "original, paced", headers=lambda: _quirky(chrome()), options=LEASES),
    ]  # fmt: skip
