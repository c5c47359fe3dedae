"""A whole uvicorn worker's instructions a request over HTTP, counted by valgrind.

.venv/bin/python -m benchmarks.bench_server_instructions [--apps bare,protected]
    [--against <checkout>] [--cache-sim] [--connections N]

`bench_instructions` counts a request in process; over HTTP the server's own work (parsing,
the scope, the send path, the socket) comes on top, and the shield's share of it is what
`benchmarks.run`'s ratios see. Here the uvicorn process (httptools + uvloop, one worker,
`benchmarks.apps`' factory) runs under `valgrind --tool=callgrind` (`--cache-sim`: cachegrind,
its simulated cache misses and branch mispredictions too) on the fake clock of
`bench_instructions` (a `sitecustomize` this script writes), and keep-alive connections send
`run`'s page with Chrome's headers: 300 warm-up and then 200, in one run, or 1,000, in another.
The two totals' difference over the 800 requests is one request's cost: start-up, warm-up and
shutdown cancel. `--connections` (wrk's -c) sends that many requests before reading any answer,
as wrk's connections keep them in flight; under valgrind's pace the server then finds them all
waiting at each wakeup, which is the most batching a server can get. This says how many
instructions a request takes, not how fast they run (docs/log/architecture.md, "The server's
instructions over HTTP" and "In flight, and branches"). The two apps (or trees) run two at a
time, one a core; each takes ~3 minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.servers import free_port, wait_for_port

from benchmarks.run import BROWSER_HEADERS

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 300
FEW, MANY = 200, 1000
_CLOCK = """import itertools, os, time
if os.environ.get("BENCH_FAKE_CLOCK"):
    _start, _ticks = time.time(), itertools.count()
    time.time = lambda: _start + next(_ticks) * 5e-6
"""


def _response(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes]:
    """One response's head (its body read past), and what followed it."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    found = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
    length = int(found.group(1)) if found else 0
    while len(rest) < length:
        rest += sock.recv(65536)
    return head, rest[length:]


def totals(
    tree: Path, app: str, requests: int, cache_sim: bool, folder: Path, in_flight: int
) -> dict[str, int]:
    """valgrind's totals by event (instructions; `cache_sim`: cachegrind's cache and branch
    events too) for `WARM_UP + requests` pages."""
    port, out = free_port(), folder / f"{app}-{requests}.out"
    tool = (
        ["--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes", f"--cachegrind-out-file={out}"]
        if cache_sim
        else ["--tool=callgrind", f"--callgrind-out-file={out}"]
    )
    command = [
        "valgrind", *tool, sys.executable, "-m", "uvicorn", f"benchmarks.apps:{app}",
        "--factory", "--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers",
        "--no-access-log", "--log-level", "warning", "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip
    path = os.pathsep.join((str(folder), str(tree / "src"), str(tree)))
    env = os.environ | {"PYTHONPATH": path, "PYTHONHASHSEED": "0", "BENCH_FAKE_CLOCK": "1"}
    server = subprocess.Popen(
        command, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, timeout=400, process=server)  # (valgrind starts it in a minute or more)
        lines = ["GET /artworks/7 HTTP/1.1", f"host: 127.0.0.1:{port}", *BROWSER_HEADERS]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        socks = [
            socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(in_flight)
        ]
        buffers = [b""] * in_flight
        try:
            for _ in range((WARM_UP + requests) // in_flight):
                for sock in socks:  # (every connection's request sent before any answer is read)
                    sock.sendall(request)
                for n, sock in enumerate(socks):
                    head, buffers[n] = _response(sock, buffers[n])
                    if not head.startswith(b"HTTP/1.1 200"):
                        raise RuntimeError(f"{app}: {head.splitlines()[0]!r}, not a 200")
        finally:
            for sock in socks:
                sock.close()
        server.terminate()
        server.wait(300)
    finally:
        if server.poll() is None:
            server.kill()
    text = out.read_text()
    events = re.search(r"^events:\s+(.*)$", text, re.MULTILINE)
    found = re.search(r"^(?:summary|totals):\s+(.*)$", text, re.MULTILINE)
    if events is None or found is None:
        raise RuntimeError(f"no totals in valgrind's output for {app}")
    return dict(zip(events.group(1).split(), map(int, found.group(1).split()), strict=True))


def per_request(tree: Path, app: str, cache_sim: bool, in_flight: int) -> dict[str, float]:
    """One request's events: the two runs' difference over `MANY - FEW` requests."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "sitecustomize.py").write_text(_CLOCK, encoding="utf-8")
        few = totals(tree, app, FEW, cache_sim, folder, in_flight)
        many = totals(tree, app, MANY, cache_sim, folder, in_flight)
    return {name: (many[name] - few[name]) / (MANY - FEW) for name in many}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_server_instructions")
    parser.add_argument("--apps", default="bare,protected", help="benchmarks.apps factories")
    parser.add_argument("--against", type=Path, help="another checkout: its protected app too")
    parser.add_argument("--cache-sim", action="store_true", help="cachegrind's misses too")
    parser.add_argument(
        "--connections", type=int, default=1, choices=(1, 2, 4, 5, 10, 20, 25, 50, 100),
        help="connections with a request in flight at once (wrk's -c; divides the counts)",
    )  # fmt: skip
    args = parser.parse_args()
    runs = [(ROOT, app) for app in args.apps.split(",") if app]
    if args.against:
        runs.append((args.against.resolve(), "protected"))
    with ThreadPoolExecutor(max_workers=2) as pool:  # (one valgrind a core)
        found = list(
            pool.map(
                lambda run: per_request(run[0], run[1], args.cache_sim, args.connections), runs
            )
        )
    print(
        f"a request over HTTP ({MANY - FEW} requests differenced, {WARM_UP} warm-up, "
        f"{args.connections} connection(s) in flight):"
    )
    for (tree, app), events in zip(runs, found, strict=True):
        figures = "  ".join(f"{n} {v / 1000:8.1f}k" for n, v in events.items())
        print(f"  {app:10} {tree.name:12} {figures}")


if __name__ == "__main__":
    main()
