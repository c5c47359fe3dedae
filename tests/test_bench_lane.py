"""benchmarks/lane_probe.py: a hit skips the full evaluation yet counts the real entries."""

from __future__ import annotations

from benchmarks.bench_lane import probe_app
from benchmarks.bench_request import Driver, visitor_cookie
from benchmarks.lane_probe import PROBES


async def test_the_probe_counts_its_hits_on_the_detectors_own_entries() -> None:
    driver = Driver(probe_app(cap=4), "/artworks/7", image=False)
    await driver.start()
    try:
        cookie = await visitor_cookie(driver)  # (a first page: its cookie, not kept)
        driver.scope["headers"] = [*driver.scope["headers"], (b"cookie", cookie)]
        probe = PROBES[-1]
        probe.hits = probe.misses = 0
        await driver.run(10)
    finally:
        await driver.stop()
    assert (probe.hits, probe.misses) == (8, 2)  # a full evaluation, four hits, and again
    hourly = next(key for key in probe._limiter._data if "3600s" in key and "client" in key)
    _, current, previous = probe._limiter._data[hourly]
    assert current + previous == 11  # every request counted (and the first page's)
    tally = probe.store.record("bh:{127.0.0.1}", 60, lambda: None)
    assert tally is not None
    assert tally[0][0] + tally[0][6] == 11  # pages, in whichever window(s) they fell
    assert len(tally[1][0]) == 11  # the page ring: its id pushed by every request
