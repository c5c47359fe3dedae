"""Every adversary, in the order of the table."""

from __future__ import annotations

from benchmarks.efficacy import gallerydl, leasing, naive, people, scripted
from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.browser import headless


def all_adversaries() -> list[Adversary]:
    return [
        *naive.adversaries(),
        *gallerydl.adversaries(),
        *scripted.browser_headers(),
        *scripted.proof_of_work(),
        *headless(),
        *scripted.rotation(),
        *scripted.bypasses(),
        *leasing.adversaries(),
        *people.adversaries(),
    ]
