"""One fresh `scrapeshield demo` per adversary: a real uvicorn in its own process, default
settings, its block log read back from the JSON lines it writes to stderr.

A process of its own keeps the adversary's CPU out of the server's event loop (2 cores here)
and is exactly what an operator runs. Only the store and, where a row says so, the trusted
proxy are set; every other `SCRAPESHIELD_*` variable of the caller's environment is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers import free_port, stop_process, wait_for_port

BLOCKLOG = " scrapeshield.blocklog "
SETTINGS: dict[str, str] = {}
"""`SCRAPESHIELD_*` variables every demo gets (`--set`, e.g. `LEASE__ENABLED=true`)."""


@dataclass(frozen=True)
class ServerOptions:
    """What an adversary's row needs from the server besides the defaults."""

    trusted_proxies: tuple[str, ...] = ()
    port: int | None = None  # gallery-dl's generic extractor drops ports: it needs 80
    leases: bool = False  # pinned on (the lease exploits), whatever the default or `--set` say

    def describe(self, store: str) -> str:
        parts = [f"defaults, {store.split('://', 1)[0]} store"]
        if self.trusted_proxies:
            parts.append(f"trusted_proxies={list(self.trusted_proxies)}")
        if self.port:
            parts.append(f"port {self.port}")
        if self.leases:
            parts.append("leases on")
        return "; ".join(parts)


@dataclass
class DemoServer:
    store_url: str = "memory://"
    options: ServerOptions = field(default_factory=ServerOptions)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        port = "" if self.port == 80 else f":{self.port}"
        return f"http://127.0.0.1{port}"

    def start(self) -> None:
        self.port = self.options.port or free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPESHIELD_")}
        env.update({f"SCRAPESHIELD_{name}": value for name, value in SETTINGS.items()})
        if self.options.trusted_proxies:
            env["SCRAPESHIELD_TRUSTED_PROXIES"] = ",".join(self.options.trusted_proxies)
        if self.options.leases:
            env["SCRAPESHIELD_LEASE__ENABLED"] = "true"
        if not self.store_url.startswith("memory"):
            env["SCRAPESHIELD_STORE_PREFIX"] = f"efficacy:{uuid.uuid4().hex[:12]}:"
        handle, name = tempfile.mkstemp(prefix="efficacy-demo-", suffix=".log")
        self.log_path = Path(name)
        command = [sys.executable, "-m", "scrapeshield.cli", "demo", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--store", self.store_url]
        with os.fdopen(handle, "wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        wait_for_port(self.port, timeout=30, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def events(self) -> list[dict[str, Any]]:
        """The block log, in order (one JSON object per `scrapeshield.blocklog` line)."""
        if self.log_path is None or not self.log_path.exists():
            return []
        found = []
        for line in self.log_path.read_text("utf-8", "replace").splitlines():
            _, marker, text = line.partition(BLOCKLOG)
            if marker:
                with contextlib.suppress(ValueError):
                    found.append(json.loads(text))
        return found

    def cleanup(self) -> None:
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)


@contextlib.contextmanager
def demo(store_url: str, options: ServerOptions) -> Iterator[DemoServer]:
    server = DemoServer(store_url, options)
    try:
        server.start()
        yield server
    finally:
        server.stop()
