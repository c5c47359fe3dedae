"""Redis Cluster: the same load on one primary and on three, interleaved.

.venv/bin/python -m benchmarks.bench_cluster [--seconds 5] [--rounds 2] [--connections 32]

Starts a one-primary cluster (every slot on one redis-server), a three-primary cluster (slots
spread by redis-cli) and, for reference, one plain redis-server, then, in turns, one uvicorn
worker (httptools + uvloop) serving the demo with every defence as shipped
(`benchmarks/apps.py`, limits out of reach) on each,
loaded by wrk with a Chrome link click from a crowd of 50,000 addresses in distinct /24
networks (X-Forwarded-For from a trusted proxy: a Lua script picks one per request). Prints
req/s and, per primary, Redis server CPU µs per request and its share of the commands
(`INFO cpu`, `INFO commandstats`, reset before each run). On this 2-core machine the uvicorn
worker, not Redis, is the limit: the figure to read is how the Redis work is spread.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
from tests.servers import RedisClusterServers, RedisServer, _free_cluster_port

from benchmarks.bench_ratelimit import uvicorn_process
from benchmarks.run import BROWSER_HEADERS, redis_cpu

CROWD = """
math.randomseed(os.time())
request = function()
  local n = math.random(0, 49999)
  local high, low = math.floor(n / 250) % 250, n % 250
  wrk.headers["X-Forwarded-For"] = "10." .. high .. "." .. low .. ".7"
  return wrk.format(nil, "/artworks/7")
end
"""


@contextlib.contextmanager
def one_server() -> Iterator[RedisServer]:
    """Not a cluster: the one-server store, for the cost of Cluster itself."""
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.close()


@contextlib.contextmanager
def one_primary() -> Iterator[RedisClusterServers]:
    """A cluster of one node holding every slot (redis-cli's `create` wants three)."""
    cluster_mode = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
    node = RedisServer.start(_free_cluster_port(), extra=cluster_mode)
    servers = RedisClusterServers([node])
    try:
        with redis.Redis(port=node.port) as client:
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        servers._wait_until_ok(shutil.which("redis-cli") or "redis-cli")
        yield servers
    finally:
        servers.stop()


@contextlib.contextmanager
def three_primaries() -> Iterator[RedisClusterServers]:
    servers = RedisClusterServers.start(3)
    try:
        yield servers
    finally:
        servers.stop()


def run(
    url: str, ports: list[int], seconds: float, connections: int, script: str
) -> dict[str, Any]:
    env = {
        "BENCH_STORE_URL": url,
        "SCRAPESHIELD_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    stack = ("--http", "httptools", "--loop", "uvloop")
    nodes = [redis.Redis(port=port, decode_responses=True) for port in ports]
    headers = [arg for header in BROWSER_HEADERS for arg in ("-H", header)]
    with uvicorn_process("protected", env, stack) as (base, _):
        command = ["wrk", "-t1", f"-c{connections}", "-s", script, *headers]
        subprocess.run([*command, "-d1s", base], capture_output=True, check=True)  # warm up
        for node in nodes:
            node.config_resetstat()
        cpu = [redis_cpu(node) for node in nodes]
        out = subprocess.run(
            [*command, f"-d{seconds:g}s", base], capture_output=True, text=True, check=True
        ).stdout
        cpu = [redis_cpu(node) - before for node, before in zip(nodes, cpu, strict=True)]
        commands = [
            sum(int(v["calls"]) for v in node.info("commandstats").values()) for node in nodes
        ]
    for node in nodes:
        node.close()
    rps = float(out.split("Requests/sec:")[1].split()[0])
    sent = int(out.split(" requests in")[0].split()[-1])
    errors = out.split("Non-2xx or 3xx responses:")[1].split()[0] if "Non-2xx" in out else "0"
    return {
        "rps": rps,
        "cpu": [c * 1e6 / sent for c in cpu],
        "share": [c / max(1, sum(commands)) for c in commands],
        "non2xx": int(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    results: dict[str, list[dict[str, Any]]] = {
        "one server (redis://)": [],
        "1 primary": [],
        "3 primaries": [],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(CROWD)
    try:
        with one_server() as server, one_primary() as one, three_primaries() as three:
            targets = {
                "one server (redis://)": (server.url, [server.port]),
                "1 primary": (one.url, [n.port for n in one.nodes]),
                "3 primaries": (three.url, [n.port for n in three.nodes]),
            }
            for _ in range(options.rounds):
                for name, (url, ports) in targets.items():
                    figures = run(url, ports, options.seconds, options.connections, lua.name)
                    results[name].append(figures)
                    time.sleep(0.5)
    finally:
        os.unlink(lua.name)
    print(f"wrk -c{options.connections}, {options.seconds:g} s x {options.rounds} rounds, "
          "httptools + uvloop, every defence, 50,000 addresses in distinct /24s")  # fmt: skip
    head = "| cluster | req/s (median) | Redis CPU µs/request, per primary | share of commands |"
    print(head + " non-2xx |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        size = len(runs[0]["cpu"])
        cpu = [statistics.median(r["cpu"][i] for r in runs) for i in range(size)]
        share = [statistics.median(r["share"][i] for r in runs) for i in range(size)]
        per_primary = " / ".join(f"{c:.1f}" for c in cpu)
        shares = " / ".join(f"{s:.0%}" for s in share)
        failed = sum(r["non2xx"] for r in runs)
        print(f"| {name} | {rps:,.0f} | {per_primary} (sum {sum(cpu):.1f}) | {shares} | {failed} |")


if __name__ == "__main__":
    main()
