"""Per-request cost of the decision pipeline (memory store), without HTTP.

.venv/bin/python -m benchmarks.bench_pipeline
"""

from __future__ import annotations

import asyncio
import time

from scrapeshield import Settings, Shield
from scrapeshield.shield import synthetic_scope

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


async def main(iterations: int = 20_000) -> None:
    shield = Shield(Settings())
    scope = synthetic_scope(user_agent=UA, path="/artworks/1")
    for _ in range(1000):
        await shield.decide(shield.facts(scope))
    start = time.perf_counter()
    for _ in range(iterations):
        await shield.decide(shield.facts(scope))
    elapsed = time.perf_counter() - start
    print(f"facts+decide, memory store: {elapsed / iterations * 1e6:.1f} µs/request")
    await shield.aclose()


if __name__ == "__main__":
    asyncio.run(main())
