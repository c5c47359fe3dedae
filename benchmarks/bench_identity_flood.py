"""What a flood of distinct clients leaves in memory (tracemalloc): N clients with a visitor
token, a page and an original each, twice, on the memory store; the memory still held after,
by the modules that allocated it (identity's, and the key strings of `store/keys.py`) and in
all. docs/log/architecture.md, "Many clients".

    python -m benchmarks.bench_identity_flood --clients 20000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc

from tests.browsers import chrome, chrome_image

from scrapeshield.identity.detector import IdentityDetector
from scrapeshield.identity.token import KIND
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope


async def flood(clients: int) -> None:
    shield = Shield(
        Settings(
            challenge={"secret_keys": ["bench-key-0123456789abcdef"]}, ratelimit={"enabled": False}
        )
    )
    tokens = next(d for d in shield.detectors if isinstance(d, IdentityDetector)).tokens
    now = int(time.time())
    page, image = chrome(), chrome_image("https://localhost/artworks/1")
    ips = [f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in range(clients)]
    cookies = []
    for n, ip in enumerate(ips):
        facts = shield.facts(synthetic_scope(path="/", ip=ip, headers=list(page.items())))
        payload = {"v": f"visitor-{n}", "b": tokens.binding(facts), "iat": now - 120,
                   "exp": now + 86_400}  # fmt: skip
        cookies.append(f"{tokens.cookie}={tokens.signer.sign(KIND, payload)}")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(2):
        for n, (ip, cookie) in enumerate(zip(ips, cookies, strict=True)):
            for path, headers in (("/artworks/1", page), (f"/images/{n % 9 + 1}.png", image)):
                sent = [*headers.items(), ("Cookie", cookie)]
                facts = shield.facts(synthetic_scope(path=path, ip=ip, headers=sent))
                await shield.decide(facts, shield.context())
    gc.collect()
    stats = tracemalloc.take_snapshot().compare_to(before, "filename")
    tracemalloc.stop()
    mine = sum(
        s.size_diff
        for s in stats
        if "/identity/" in s.traceback[0].filename or s.traceback[0].filename.endswith("keys.py")
    )
    total = sum(s.size_diff for s in stats)
    print(f"{clients} clients: identity's tables {mine / 1e6:.1f} MB, all {total / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20_000)
    asyncio.run(flood(parser.parse_args().clients))


if __name__ == "__main__":
    main()
