"""Start-up time of the operators' commands and of `import scrapeshield`: what each run pays
before it reads a line (Python's own start included; `python -c pass` is printed for scale).

Each command runs as a fresh subprocess N times; best and median wall time. With `--against`
another checkout's `src` runs the same commands in alternating order (A B A B ...), so both
see the same load on a shared machine.

.venv/bin/python -m benchmarks.bench_cli_start
.venv/bin/python -m benchmarks.bench_cli_start --against <main checkout>/src -n 9

Where the time goes: `.venv/bin/python -X importtime -m scrapeshield.cli log --file F`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CLI = ["-m", "scrapeshield.cli"]
EVENT = {"event": "decision", "action": "block", "rule": "ua/ai-training", "path": "/art/1.jpg"}


def commands(empty: Path, log: Path) -> dict[str, list[str]]:
    return {
        "python -c pass": ["-c", "pass"],
        "import scrapeshield": ["-c", "import scrapeshield"],
        "from scrapeshield import ScrapeShield": ["-c", "from scrapeshield import ScrapeShield"],
        "log --file (empty)": [*CLI, "log", "--file", str(empty)],
        "log --file (1,000 lines)": [*CLI, "log", "--file", str(log)],
        "log summary --file (1,000 lines)": [*CLI, "log", "summary", "--file", str(log)],
        "log --help": [*CLI, "log", "--help"],
        "explain --help": [*CLI, "explain", "--help"],
        "explain --ua GPTBot/1.1": [*CLI, "explain", "--ua", "GPTBot/1.1"],
        "bans --help": [*CLI, "bans", "--help"],
    }


def write_log(path: Path, lines: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            event = {**EVENT, "time": 1_764_000_000 + i, "client_key": f"198.51.100.{i % 250}"}
            out.write(json.dumps(event) + "\n")


def once(argv: list[str], src: Path | None) -> float:
    env = dict(os.environ)
    if src is not None:  # another checkout: its src before this venv's editable install
        env["PYTHONPATH"] = str(src)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # a blocking wait, killed at the deadline: `wait(timeout=)` polls in up-to-50 ms sleeps
    deadline = threading.Timer(60, proc.kill)
    deadline.start()
    try:
        code = proc.wait()
    finally:
        deadline.cancel()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="runs per command (default 5)")
    parser.add_argument("--against", type=Path, help="another checkout's src: side by side")
    parser.add_argument("--runs", action="store_true", help="also print every run, in order")
    args = parser.parse_args()
    sides: dict[str, Path | None] = {"this": None}
    if args.against:
        sides["against"] = args.against.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        empty, log = Path(tmp, "empty.jsonl"), Path(tmp, "log.jsonl")
        empty.touch()
        write_log(log, 1000)
        print(f"{'command':<38}" + "".join(f"{s + ' best':>13}{s + ' median':>15}" for s in sides))
        for name, argv in commands(empty, log).items():
            times: dict[str, list[float]] = {side: [] for side in sides}
            for _ in range(args.n):
                for side, src in sides.items():
                    times[side].append(once(argv, src))
            cells = "".join(
                f"{min(t) * 1000:>10.0f} ms{statistics.median(t) * 1000:>12.0f} ms"
                for t in times.values()
            )
            print(f"{name:<38}{cells}", flush=True)
            for side, runs in times.items() if args.runs else ():
                print(f"  {side + ' runs':<36}" + " ".join(f"{t * 1000:.0f}" for t in runs))


if __name__ == "__main__":
    main()
