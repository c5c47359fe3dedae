"""What the challenge costs a person: time to solve it in a real Chromium, default difficulty.

.venv/bin/python -m benchmarks.bench_challenge_browser [runs]

Each run is a fresh browser context (no pass cookie) opening an artwork page of the demo served
by uvicorn; the time is from navigation start to the artwork page being shown, so it includes
the challenge page, the proof of work, the POST and the redirect. Needs /usr/bin/chromium.
"""

from __future__ import annotations

import re
import statistics
import sys
import time

from playwright.sync_api import Request, sync_playwright
from tests.browsers import CHROMIUM_ARGS
from tests.servers import serve

from scrapeshield.demo.app import create_app
from scrapeshield.settings import Settings

ARGS = CHROMIUM_ARGS


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    settings = Settings(
        site_name="Demo Art Gallery",
        terms_url="/terms",
        policy={"challenge_score": -10},  # challenge everyone without a pass
        challenge={"secret_keys": ["benchmark-key-0123456789"]},
    )
    difficulty = settings.challenge.difficulty
    totals: list[float] = []
    reported: list[float] = []
    hashes: list[int] = []
    with serve(create_app(settings)) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        workers = None
        for run in range(runs):
            context = browser.new_context()
            page = context.new_page()
            posted: list[Request] = []

            def record(request: Request, seen: list[Request] = posted) -> None:
                seen.append(request)

            page.on("request", record)
            target = f"http://localhost:{server.port}/artworks/{run + 1}"
            start = time.perf_counter()
            page.goto(target)
            page.wait_for_selector("article.artwork", timeout=120_000)
            totals.append(time.perf_counter() - start)
            if workers is None:
                workers = page.evaluate(
                    "Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4))"
                )
            answer = next(r.post_data or "" for r in posted if r.method == "POST")
            form = dict(re.findall(r"(\w+)=([^&]*)", answer))
            reported.append(int(form["elapsed"]) / 1000)
            hashes.append(int(form["hashes"]))
            context.close()
        browser.close()
    rate = sum(hashes) / sum(reported)
    print(f"chromium {browser.version}, {workers} Web Workers, difficulty {difficulty} bits")
    print(f"  {runs} runs, each in a fresh context (no pass cookie)")
    print(
        f"  navigation to artwork shown: median {statistics.median(totals):.2f} s  "
        f"p90 {statistics.quantiles(totals, n=10)[-1]:.2f} s  max {max(totals):.2f} s"
    )
    print(f"  proof of work alone (page's own clock): median {statistics.median(reported):.2f} s")
    print(
        f"  hashes per solve: median {statistics.median(hashes):,.0f}  "
        f"mean {statistics.mean(hashes):,.0f}; WebCrypto rate {rate:,.0f} hashes/s"
    )


if __name__ == "__main__":
    main()
