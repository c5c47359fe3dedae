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
        assert abs(sum(map(float, found.values())) - float(total)) < 0.2  # (rounding)
        assert float(found["endpoint"]) > 0
        assert float(found["conclusion"]) > 0
