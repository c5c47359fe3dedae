"""What the challenge costs a person: time to solve it in a real Chromium, per CPU speed and
difficulty.

.venv/bin/python -m benchmarks.bench_challenge_browser [runs] [difficulties] [rates]
    e.g. ... 15 12,14,16,17,18 1,4,6

Each run is a fresh browser context (no pass cookie) opening an artwork page of the demo served
by uvicorn; the time is from navigation start to the artwork page being shown, so it includes
the challenge page, the proof of work, the POST and the redirect.

Slower phones are emulated with DevTools CPU throttling (`Emulation.setCPUThrottlingRate`,
×4 and ×6 are Lighthouse's mid-range and low-end phone settings). That throttles the page's
main thread only, not its Web Workers, where the work runs; so each run also gives a *phone*
figure: the measured time plus the run's hashes at the unthrottled hash rate (the ×1 row of
the same difficulty, measured first) times `rate - 1`, i.e. a CPU `rate` times slower on every
thread. The `phone` columns are the ones the difficulty curve is chosen from. Needs
/usr/bin/chromium.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from typing import Any

from playwright.sync_api import Request, sync_playwright
from tests.browsers import CHROMIUM, CHROMIUM_ARGS, person_user_agent
from tests.servers import serve

from scrapeshield.demo.app import create_app
from scrapeshield.settings import Settings


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_once(browser: Any, port: int, artwork: int, rate: int) -> tuple[float, float, int]:
    """(navigation → artwork shown in seconds, the page's own work time, hashes tried)."""
    context = browser.new_context(user_agent=person_user_agent(browser.version))
    page = context.new_page()
    if rate > 1:
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    posted: list[Request] = []
    page.on("request", lambda request: posted.append(request))
    start = time.perf_counter()
    page.goto(f"http://localhost:{port}/artworks/{artwork}")
    page.wait_for_selector("article.artwork", timeout=600_000)
    total = time.perf_counter() - start
    answer = next(r.post_data or "" for r in posted if r.method == "POST")
    form = dict(re.findall(r"(\w+)=([^&]*)", answer))
    context.close()
    return total, int(form["elapsed"]) / 1000, int(form["hashes"])


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    levels = [int(d) for d in (sys.argv[2] if len(sys.argv) > 2 else "14,16,17,18").split(",")]
    rates = [int(r) for r in (sys.argv[3] if len(sys.argv) > 3 else "1,4,6").split(",")]
    print(f"{runs} runs per row, each in a fresh context (no pass cookie)")
    print(
        "| difficulty | CPU | measured p50 / p90 (s) | phone p50 / p90 (s) | work p50 (s) "
        "| hashes/s |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for difficulty in levels:
            settings = Settings(
                site_name="Demo Art Gallery",
                policy={"challenge_score": -10},  # challenge everyone without a pass
                challenge={
                    "secret_keys": ["benchmark-key-0123456789"],
                    "difficulty": difficulty,
                    "max_difficulty": difficulty,
                },
            )
            with serve(create_app(settings)) as server:
                unthrottled = 0.0  # hashes per second at ×1, measured first
                for rate in sorted(rates):
                    totals: list[float] = []
                    works: list[float] = []
                    hashes: list[int] = []
                    for run in range(runs):
                        total, work, tried = run_once(browser, server.port, run % 300 + 1, rate)
                        totals.append(total)
                        works.append(work)
                        hashes.append(tried)
                    speed = sum(hashes) / max(sum(works), 1e-9)
                    unthrottled = unthrottled or speed
                    slower = (rate - 1) / unthrottled
                    phones = [t + slower * h for t, h in zip(totals, hashes, strict=True)]
                    print(
                        f"| {difficulty} | ×{rate} | {_p(totals, 0.5):.2f} / {_p(totals, 0.9):.2f} "
                        f"| {_p(phones, 0.5):.2f} / {_p(phones, 0.9):.2f} "
                        f"| {statistics.median(works):.2f} | {speed:,.0f} |",
                        flush=True,
                    )
        print(f"chromium {browser.version}")
        browser.close()


if __name__ == "__main__":
    main()
