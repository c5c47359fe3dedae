"""The adversary interface: a name, a class of threat, a target, what the server needs, and
`run(base_url, ledger)`, which sends requests until the ledger's budget is spent."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.efficacy.core import Ledger, Target
from benchmarks.efficacy.server import ServerOptions


@dataclass
class Adversary:
    name: str
    threat: str
    target: Target
    description: str
    options: ServerOptions = field(default_factory=ServerOptions)
    browser: bool = False
    slow: bool = False  # paced by design: a wall-time cap is expected, then extrapolated

    def unavailable(self) -> str | None:
        """Why this adversary cannot run here (a missing tool), or None."""
        return None

    def run(self, base_url: str, ledger: Ledger) -> None:
        raise NotImplementedError
