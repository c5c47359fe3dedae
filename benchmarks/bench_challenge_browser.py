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

`--cgroup` slows the whole browser instead (needs root and the cgroup v1 `cpu` controller at
/sys/fs/cgroup/cpu): for each rate a fresh Chromium starts inside a cgroup whose CPU quota is
the machine's cores divided by the rate, so every thread of every browser process, workers
included, gets `rate` times less CPU; the server is not slowed. Its *measured* column is then
the phone figure itself (the *phone* column repeats it). Run it on an otherwise idle machine:
a quota only bites when the browser could have had more.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Request, sync_playwright
from tests.browsers import CHROMIUM, CHROMIUM_ARGS, person_user_agent
from tests.servers import serve

from scrapeshield.demo.app import create_app
from scrapeshield.settings import Settings


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


CGROUPS = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000


@contextlib.contextmanager
def slowed_chromium(rate: int) -> Iterator[str]:
    """An executable that starts Debian's Chromium inside a cgroup with `cores / rate` CPUs."""
    group = CGROUPS / f"scrapeshield-bench-x{rate}"
    group.mkdir(exist_ok=True)
    quota = int(PERIOD_US * (os.cpu_count() or 1) / rate)
    (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
    (group / "cpu.cfs_quota_us").write_text(str(quota))
    with tempfile.TemporaryDirectory() as tmp:
        wrapper = Path(tmp) / "chromium"
        wrapper.write_text(f'#!/bin/sh\necho $$ > {group}/cgroup.procs\nexec {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
        try:
            yield str(wrapper)
        finally:
            (group / "cpu.cfs_quota_us").write_text("-1")


def run_once(
    browser: Any, port: int, artwork: int, rate: int, devtools: bool = True
) -> tuple[float, float, int]:
    """(navigation → artwork shown in seconds, the page's own work time, hashes tried)."""
    context = browser.new_context(user_agent=person_user_agent(browser.version))
    page = context.new_page()
    if rate > 1 and devtools:
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    posted: list[Request] = []
    page.on("request", lambda request: posted.append(request))
    start = time.perf_counter()
    page.goto(f"http://localhost:{port}/artworks/{artwork}")
    page.wait_for_selector("article.artwork", timeout=120_000)
    total = time.perf_counter() - start
    answer = next(r.post_data or "" for r in posted if r.method == "POST")
    form = dict(re.findall(r"(\w+)=([^&]*)", answer))
    context.close()
    return total, int(form["elapsed"]) / 1000, int(form["hashes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="?", type=int, default=15)
    parser.add_argument("difficulties", nargs="?", default="14,16,17,18")
    parser.add_argument("rates", nargs="?", default="1,4,6")
    parser.add_argument("--cgroup", action="store_true", help="slow the whole browser (root)")
    options = parser.parse_args()
    runs = options.runs
    levels = [int(d) for d in options.difficulties.split(",")]
    rates = [int(r) for r in options.rates.split(",")]
    how = "a CPU quota on the whole browser" if options.cgroup else "DevTools CPU throttling"
    print(f"{runs} runs per row, each in a fresh context (no pass cookie); slowed by {how}")
    print(
        "| difficulty | CPU | measured p50 / p90 (s) | phone p50 / p90 (s) | work p50 (s) "
        "| hashes/s |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    with sync_playwright() as playwright:
        for difficulty in levels:
            settings = Settings(
                site_name="Demo Art Gallery",
                policy={"challenge_score": -10},  # challenge everyone without a pass
                # Every run is a fresh visitor from 127.0.0.1: without these, the address's
                # token churn and page-only browsing would soon block the runs themselves.
                identity={"enabled": False},
                behaviour={"enabled": False},
                challenge={
                    "secret_keys": ["benchmark-key-0123456789"],
                    "difficulty": difficulty,
                    "max_difficulty": difficulty,
                },
            )
            with serve(create_app(settings)) as server:
                unthrottled = 0.0  # hashes per second at ×1, measured first
                for rate in sorted(rates):
                    with contextlib.ExitStack() as stack:
                        executable = CHROMIUM
                        if options.cgroup and rate > 1:
                            executable = stack.enter_context(slowed_chromium(rate))
                        browser = playwright.chromium.launch(
                            executable_path=executable, args=CHROMIUM_ARGS
                        )
                        stack.callback(browser.close)
                        version = browser.version
                        totals: list[float] = []
                        works: list[float] = []
                        hashes: list[int] = []
                        for run in range(runs):
                            total, work, tried = run_once(
                                browser, server.port, run % 300 + 1, rate, not options.cgroup
                            )
                            totals.append(total)
                            works.append(work)
                            hashes.append(tried)
                    speed = sum(hashes) / max(sum(works), 1e-9)
                    unthrottled = unthrottled or speed
                    slower = 0.0 if options.cgroup else (rate - 1) / unthrottled
                    phones = [t + slower * h for t, h in zip(totals, hashes, strict=True)]
                    print(
                        f"| {difficulty} | ×{rate} | {_p(totals, 0.5):.2f} / {_p(totals, 0.9):.2f} "
                        f"| {_p(phones, 0.5):.2f} / {_p(phones, 0.9):.2f} "
                        f"| {statistics.median(works):.2f} | {speed:,.0f} |",
                        flush=True,
                    )
        print(f"chromium {version}")


if __name__ == "__main__":
    main()
