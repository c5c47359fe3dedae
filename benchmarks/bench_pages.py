"""Cost of the pages people see: a refusal's response object built (HTML from the templates, in
English and Japanese, and JSON), the challenge page issued, and the language chosen.

.venv/bin/python -m benchmarks.bench_pages
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from tests.browsers import chrome

from scrapeshield import Settings, Shield
from scrapeshield.actions import default_response
from scrapeshield.facts import Facts
from scrapeshield.pages.catalogue import negotiate
from scrapeshield.pages.settings import PagesSettings
from scrapeshield.pages.site import Pages
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action, Decision


def timed(call: Callable[[], Any], iterations: int) -> float:
    """Median of 5 runs, microseconds per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iterations):
            call()
        runs.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(runs)


async def issue(shield: Shield, decision: Decision, facts: Facts, iterations: int) -> float:
    """The challenge page issued (tokens signed, page rendered), microseconds per page."""
    assert shield.challenge is not None
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iterations):
            await shield.challenge.respond(decision, facts)
        runs.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(runs)


def main(iterations: int = 5_000) -> None:
    settings = Settings(site_name="Example Art", challenge={"secret_keys": ["k" * 32]})
    shield = Shield(settings)
    facts = {
        name: shield.facts(synthetic_scope(path="/artworks/1", headers=list(headers.items())))
        for name, headers in {
            "html en": chrome(),
            "html ja": chrome(**{"Accept-Language": "ja,en;q=0.8"}),
            "json": {"Accept": "application/json", "User-Agent": "python-requests/2.32"},
        }.items()
    }
    block = Decision(Action.BLOCK, "bench", request_id="0123456789abcdef")
    throttle = Decision(Action.THROTTLE, "bench", request_id="0123456789abcdef", retry_after=30)
    challenge = Decision(Action.CHALLENGE, "bench", request_id="0123456789abcdef")
    print(f"per response object, median of 5 x {iterations} (us):")
    for name, f in facts.items():
        for label, decision in (("block", block), ("throttle", throttle)):
            cost = timed(partial(default_response, decision, f, settings, shield.pages), iterations)
            print(f"  {label:9} {name:8} {cost:7.1f}")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "_unused.html").write_text("", "utf-8")
        own = Pages(PagesSettings(template_dir=folder), site_name="Example Art")
        call = partial(default_response, block, facts["html en"], settings, own)
        print(f"  block     html en  {timed(call, iterations):7.1f}  (template_dir: not cached)")
    for name in ("html en", "html ja"):
        cost = asyncio.run(issue(shield, challenge, facts[name], iterations))
        print(f"  challenge {name:8} {cost:7.1f}")
    header = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"
    cost = timed(lambda: negotiate(header, ("en", "ja"), "en"), iterations)
    print(f"  language, uncached ({header!r}) {cost:.1f}; cached: one dict lookup")


if __name__ == "__main__":
    main()
