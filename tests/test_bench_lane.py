"""benchmarks/lane_probe.py: a hit skips the full evaluation yet counts the real entries;
benchmarks/lane_record.py: its record counts them as the detectors would."""

from __future__ import annotations

import time
from typing import Any

import pytest
from benchmarks.bench_lane import probe_app
from benchmarks.bench_request import Driver, visitor_cookie
from benchmarks.lane_probe import PROBES
from benchmarks.lane_record import RecordProbe


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


async def test_the_record_counts_its_hits_as_the_detectors_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same requests, on a clock moving 7 s a request (the 10 s windows roll every request,
    the 300 s ones and behaviour's twice, its page ring overflows), to the probe counting on the
    detectors' own entries and to the one counting on its record: after the record is written
    back, every window and behaviour's record are the same, and the record held them."""
    found: list[tuple[int, int, dict[str, Any], Any]] = []
    clock = [0.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    for record in (False, True):
        clock[0] = 1_800_000_000.0
        driver = Driver(probe_app(cap=6, record=record), "/artworks/7", image=False)
        await driver.start()
        try:
            cookie = await visitor_cookie(driver)
            driver.scope["headers"] = [*driver.scope["headers"], (b"cookie", cookie)]
            probe = PROBES[-1]
            for n in range(90):
                clock[0] += 7.0
                page = f"/artworks/{7 + n % 5}"
                driver.scope["path"], driver.scope["raw_path"] = page, page.encode()
                await driver.run(1)
        finally:
            await driver.stop()
        if isinstance(probe, RecordProbe):
            held: dict[str, Any] = {
                name: tuple(kept.windows[3 * i : 3 * i + 3])
                for kept in probe.records.values()
                for i, name in enumerate(kept.keys)
            }
            client = probe.records["client", "127.0.0.1"]
            assert client.counts is not None
            pages = (tuple(client.rings[0]), tuple(client.rings[1]))  # the page ring
            held["bh"] = (tuple(client.counts), pages)
            probe._write_back()
        tally = probe.store.record("bh:{127.0.0.1}", 600, lambda: None)
        assert tally is not None
        windows = dict(probe._limiter._data)
        found.append((probe.hits, probe.misses, windows, tally))
    (hits, misses, windows, tally), twin = found
    assert hits > 60
    assert misses > 10
    assert (hits, misses, windows, tally) == twin
    assert held == {**windows, "bh": (tally[0], tally[1])}
    hourly = next(key for key in windows if "3600s" in key and "client" in key)
    assert sum(windows[hourly][1:]) == 91  # every request (and the first page) in its windows
