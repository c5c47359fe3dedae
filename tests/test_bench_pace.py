"""benchmarks/bench_pace.py --pieces: the shell's parts timed inside the paced run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = (
    "endpoint",
    "context",
    "decide_now's own",
    "ban read",
    "conclusion",
    "header wrapper",
    "the app's extra",
    "the rest",
)


def rounding(parts: int) -> float:
    """How far `parts` figures printed to 0.1 can sum from their total printed to 0.1: each of
    them and the total off by up to 0.05 (a hair more for the floats' own error)."""
    return (parts + 1) * 0.05 + 1e-9


def test_pieces_prints_the_shells_parts_for_every_kind() -> None:
    command = [sys.executable, "-m", "benchmarks.bench_pace", "--pieces"]
    options = ["--persons", "6", "--pages", "2", "--pace", "0"]
    done = subprocess.run(
        [*command, *options], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    shells = re.findall(r"^      shell (-?[\d.]+): (.*)$", done.stdout, re.MULTILINE)
    assert len(shells) == 3, done.stdout  # page, asset, original
    for total, parts in shells:
        found = dict(part.rsplit(" ", 1) for part in parts.split(", "))
        assert tuple(found) == PARTS
        assert abs(sum(map(float, found.values())) - float(total)) <= rounding(len(found))
        assert float(found["endpoint"]) > 0
        assert float(found["conclusion"]) > 0


def test_shell_splits_what_shipped_costs_over_bare_without_timings() -> None:
    command = [sys.executable, "-m", "benchmarks.bench_pace", "--shell"]
    options = ["--persons", "6", "--pages", "2", "--pace", "0"]
    done = subprocess.run(
        [*command, *options], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    rows = re.findall(
        r"^    (\w+) +(-?[\d.]+) = detectors (-?[\d.]+) \+ shell (-?[\d.]+) \+ facts (-?[\d.]+)$",
        done.stdout,
        re.MULTILINE,
    )
    assert [row[0] for row in rows] == ["all", "page", "asset", "original"], done.stdout
    for _, total, *parts in rows:
        assert abs(sum(map(float, parts)) - float(total)) <= rounding(len(parts))
    assert "as shipped, no detector" in done.stdout  # (a plain allow each: `Variant.stop`)
