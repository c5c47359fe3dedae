"""Real servers for tests: redis-server on a free port, uvicorn serving an app in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio
import uvicorn

LOOPS = ("asyncio", "uvloop")
"""The event loops production ASGI servers run on: tests of the store or a server take both
(`@pytest.mark.parametrize("loop", LOOPS)`, then `serve(app, loop=loop)`)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int, timeout: float = 10.0, *, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Until something listens on 127.0.0.1:`port`; `process`: fail at once if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def wait_for_unix_socket(path: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(0.2)
            sock.connect(path)
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listening on {path} after {timeout}s")


def stop_process(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Terminate, then kill if it has not exited within `timeout`: a stop never hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


@dataclass
class RedisServer:
    """A redis-server process of our own (or an external URL); `stop`/`restart` for outages."""

    port: int
    unix_socket: str | None = None
    process: subprocess.Popen[bytes] | None = None
    workdir: str | None = None
    external_url: str | None = None
    _args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        if self.unix_socket:
            return f"unix://{self.unix_socket}?db=0"
        return self.external_url or f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def external(cls, url: str) -> RedisServer:
        return cls(port=0, external_url=url)

    @classmethod
    def start(
        cls, port: int | None = None, *, unix_socket: bool = False, extra: Sequence[str] = ()
    ) -> RedisServer:
        """A fresh redis-server on a free TCP port, or (`unix_socket`) on a socket file only;
        `extra`: more server options (e.g. cluster mode)."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/test, which installs it")
        server = cls(port=port or free_port(), workdir=tempfile.mkdtemp(prefix="ss-redis-"))
        server._args = [
            binary,
            "--port", str(server.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", server.workdir or ".",
            *extra,
        ]  # fmt: skip
        if unix_socket:
            server.port = 0
            server.unix_socket = f"{server.workdir}/redis.sock"
            server._args[2] = "0"
            server._args += ["--unixsocket", server.unix_socket, "--unixsocketperm", "700"]
        server._spawn()
        return server

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            self._args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if self.unix_socket:
            wait_for_unix_socket(self.unix_socket)
        else:
            wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the server, keeping its working directory (an outage: `restart` brings it back
        with what it SAVEd). `close` when done with it."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def close(self) -> None:
        """Stop the server for good and remove its `ss-redis-*` working directory."""
        self.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def restart(self) -> None:
        self.stop()
        self._spawn()


LOADED_STORE_TIMEOUT = 2.0
"""`store_timeout` (RedisStore's `timeout`) of a test that counts or decides through a real
Redis. On a loaded machine (CI's 2 cores, another suite beside) a round trip can take longer
than the default 0.25 s; the store then fails open, the breaker opens, and later requests are
decided without the counts the test asserts. Tests of timeouts, outages and the breaker set
their own, short, on purpose."""

LOADED_STORE_ENV = {"SCRAPESHIELD_STORE_TIMEOUT": str(LOADED_STORE_TIMEOUT)}
"""The same for a process of its own (the CLI, a server) that reads its settings from the
environment."""


def redis_store_settings(url: str, prefix: str | None = None, **more: Any) -> dict[str, Any]:
    """Settings (as keyword arguments) for a store on the real Redis at `url` under `prefix`
    (the settings' default when None), with LOADED_STORE_TIMEOUT; `more`: other settings."""
    named = {} if prefix is None else {"store_prefix": prefix}
    return {"store_url": url, **named, "store_timeout": LOADED_STORE_TIMEOUT, **more}


def wait_for_status(request: Callable[[], Any], status: int, timeout: float = 5.0) -> None:
    """Sends `request` (an httpx call) until it answers `status`: a loaded machine's first store
    call, its connection and script, may take longer than a short `store_timeout` and fail open
    or closed once (one slow call does not open the breaker)."""
    deadline = time.monotonic() + timeout
    seen: list[int] = []
    while time.monotonic() < deadline:
        seen.append(request().status_code)
        if seen[-1] == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"never got {status}; got {sorted(set(seen))}")


class _PromptServer(uvicorn.Server):
    """uvicorn's Server with its stop's idle waits cut (a test stops ~200 servers a run, each
    ~0.15 s of them): its main loop looks at `should_exit` every 0.1 s, and its shutdown sleeps
    0.1 s after asking connections to close, then polls them and the tasks every 0.1 s. Here
    `stop` wakes the main loop at once and the shutdown polls every 5 ms; the steps are
    uvicorn's own (stop listening, close idle connections and let busy ones finish their
    response, wait for the tasks, lifespan shutdown), bounded by UvicornThread's join."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):  # the date header each second, as uvicorn's
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.config.timeout_graceful_shutdown is not None:
            raise NotImplementedError("tests.servers stops wait for their connections")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        # uvicorn's state has no event to wait on: its own loop polls too, every 0.1 s
        while self.server_state.connections or self.server_state.tasks:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()

    def stop(self) -> None:
        """From another thread: exit now (not at the main loop's next tick)."""
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._wake.set)


class UvicornThread:
    """Serve an ASGI app with a real uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any, **options: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            proxy_headers=False,
            **({"lifespan": "auto"} | options),
        )
        self.server = _PromptServer(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.thread.join(timeout=10)
        if self.thread.is_alive() and exc[0] is None:
            raise RuntimeError("uvicorn did not stop within 10 s (a response never ended?)")


@contextlib.contextmanager
def serve(app: Any, **options: Any) -> Iterator[UvicornThread]:
    with UvicornThread(app, **options) as server:
        yield server


def closing_app(settings: Any, routes: list[Any]) -> Any:
    """The documented way to close the store on shutdown: own the Shield, close it in lifespan
    (serve the app with lifespan="on")."""
    from starlette.applications import Starlette

    from scrapeshield import ScrapeShield, Shield

    shield = Shield(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        await shield.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(ScrapeShield, shield=shield)
    return app


def _free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    for _ in range(200):
        with socket.socket() as sock, socket.socket() as bus:
            port = random.randrange(20000, 30000)
            try:
                sock.bind(("127.0.0.1", port))
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


@dataclass
class RedisClusterServers:
    """A real Redis Cluster on loopback: `size` primaries (no replicas), slots spread by
    redis-cli, so keys of different slots live on different processes."""

    nodes: list[RedisServer]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    @classmethod
    def start(cls, size: int = 3) -> RedisClusterServers:
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli is not installed: run scripts/test, which installs it")
        nodes: list[RedisServer] = []
        try:
            for _ in range(size):
                cluster_mode = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
                nodes.append(RedisServer.start(_free_cluster_port(), extra=cluster_mode))
            addresses = [f"127.0.0.1:{n.port}" for n in nodes]
            create = [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0"]
            subprocess.run(
                [*create, "--cluster-yes"],
                check=True,
                capture_output=True,
                timeout=60,
            )
            servers = cls(nodes)
            servers._wait_until_ok(cli)
            return servers
        except BaseException:
            for node in nodes:
                node.close()
            raise

    def _wait_until_ok(self, cli: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [
                subprocess.run(
                    [cli, "-p", str(n.port), "cluster", "info"], capture_output=True, text=True
                ).stdout
                for n in self.nodes
            ]
            if all("cluster_state:ok" in s for s in states):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for node in self.nodes:
            node.close()


@dataclass
class RedisSentinelServers:
    """A real Sentinel deployment on loopback: a primary, one replica, and three sentinels
    (quorum 2) watching service `SERVICE`, with timeouts short enough for a failover in a test."""

    primary: RedisServer
    replica: RedisServer
    sentinels: list[RedisServer]
    SERVICE = "artsite"

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.SERVICE}/0"

    @classmethod
    def start(cls) -> RedisSentinelServers:
        started: list[RedisServer] = []
        try:
            primary = RedisServer.start()
            started.append(primary)
            replica = RedisServer.start(extra=["--replicaof", "127.0.0.1", str(primary.port)])
            started.append(replica)
            sentinels = []
            for _ in range(3):
                port = free_port()
                workdir = tempfile.mkdtemp(prefix="ss-sentinel-")
                config = Path(workdir) / "sentinel.conf"
                config.write_text(
                    f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
                    f"sentinel monitor {cls.SERVICE} 127.0.0.1 {primary.port} 2\n"
                    f"sentinel down-after-milliseconds {cls.SERVICE} 1000\n"
                    f"sentinel failover-timeout {cls.SERVICE} 5000\n"
                    f"sentinel parallel-syncs {cls.SERVICE} 1\n"
                )
                sentinel = RedisServer(port=port, workdir=workdir)
                sentinel._args = [shutil.which("redis-server") or "redis-server", str(config),
                                  "--sentinel"]  # fmt: skip
                sentinel._spawn()
                started.append(sentinel)
                sentinels.append(sentinel)
            servers = cls(primary, replica, sentinels)
            servers.wait_until(lambda info: "status=ok" in info and "slaves=1" in info)
            return servers
        except BaseException:
            for server in started:
                server.close()
            raise

    def sentinel_info(self, sentinel: RedisServer) -> str:
        cli = shutil.which("redis-cli") or "redis-cli"
        return subprocess.run(
            [cli, "-p", str(sentinel.port), "info", "sentinel"],
            capture_output=True, text=True, timeout=10,
        ).stdout  # fmt: skip

    def wait_until(self, ready: Callable[[str], bool], timeout: float = 30.0) -> None:
        """Until every sentinel's INFO satisfies `ready` (e.g. it sees the replica)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(ready(self.sentinel_info(s)) for s in self.sentinels):
                return
            time.sleep(0.1)
        raise RuntimeError("the sentinels did not agree in time")

    def primary_port(self) -> int:
        cli = shutil.which("redis-cli") or "redis-cli"
        out = subprocess.run(
            [cli, "-p", str(self.sentinels[0].port), "sentinel", "get-master-addr-by-name",
             self.SERVICE], capture_output=True, text=True, timeout=10,
        ).stdout.split()  # fmt: skip
        return int(out[1])

    def close(self) -> None:
        for server in (*self.sentinels, self.replica, self.primary):
            server.close()


def glob_literal(prefix: str) -> str:
    """`prefix` as a literal in a SCAN or KEYS pattern (a test's prefix holds `[` and `]`)."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", prefix)


async def redis_contents(url: str, prefix: str) -> dict[Any, Any]:
    """Every key under `prefix` (without it) with its type, its value and whether it expires;
    streams by length (their entries' ids are the server's clock). Fails on an empty prefix's
    keyspace, where a comparison of two would mean nothing."""
    client = redis.asyncio.Redis.from_url(url)  # bytes: some values are not text
    mine = prefix.encode()
    out: dict[bytes, Any] = {}
    try:
        async for key in client.scan_iter(match=glob_literal(prefix) + "*"):
            kind = (await client.type(key)).decode()  # type: ignore[union-attr]
            value: Any
            if kind == "string":
                value = await client.get(key)
            elif kind == "hash":
                value = await client.hgetall(key)
            elif kind == "zset":
                value = await client.zrange(key, 0, -1, withscores=True)
            elif kind == "set":
                value = await client.smembers(key)
            elif kind == "list":
                value = await client.lrange(key, 0, -1)
            elif kind == "stream":
                value = await client.xlen(key)
            else:
                value = kind
            out[key[len(mine) :]] = (kind, value, await client.pttl(key) > 0)
    finally:
        await client.aclose()
    assert out, f"nothing stored under {prefix}"
    return out
