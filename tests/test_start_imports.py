"""What a worker on `memory://` (the default store) imports: no redis-py (~90 ms and ~7-8 MB a
worker, benchmarks/bench_app_start.py), and ua-parser's rules as text rather than ~1,300
compiled Python patterns nothing runs. The demo (its trap path on: the trap's write and read)
answers a page, a trap hit and a banned client's request in a fresh interpreter, since this one
has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scrapeshield.store import MemoryStore, RedisStore
from scrapeshield.store.kind import on_redis
from tests.browsers import chrome

HEAVY = ("redis", "scrapeshield.store.redis", "ua_parser_builtins.matchers")
PROBE = f"""
import json, sys
from starlette.testclient import TestClient
from scrapeshield.demo.app import TRAP_PATH, create_app

headers, operator = json.loads(sys.argv[2]), json.loads(sys.argv[3])
with TestClient(create_app(), base_url="https://testserver", client=("198.18.0.10", 50000),
                headers=headers) as client:
    statuses = [client.get(path).status_code for path in ("/artworks/1", TRAP_PATH, "/")]
    if operator:  # the dashboard's overview (outside the shield), as its operator
        statuses.append(client.get("/_scrapeshield/", headers=operator).status_code)
heavy = {HEAVY!r}
with open(sys.argv[1], "w") as out:
    json.dump({{"statuses": statuses, "imported": [m for m in heavy if m in sys.modules]}}, out)
"""


def probe(tmp_path: Path, token: str | None = None) -> dict[str, Any]:
    """The demo in a fresh interpreter, with no `SCRAPESHIELD_*` variable but the dashboard's
    `token` when given."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SCRAPESHIELD_")}
    operator = {}
    if token is not None:
        env["SCRAPESHIELD_DASHBOARD__TOKENS"] = token
        operator = {"Authorization": f"Bearer {token}"}
    result = tmp_path / "probe.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(result), json.dumps(chrome()), json.dumps(operator)],
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    found: dict[str, Any] = json.loads(result.read_text())
    return found


def test_a_worker_on_memory_imports_no_redis_py(tmp_path: Path) -> None:
    found = probe(tmp_path)
    assert found["statuses"] == [200, 403, 403]  # a page; the trap; the trapped client after
    assert found["imported"] == []


def test_nor_with_the_dashboard_on(tmp_path: Path) -> None:
    found = probe(tmp_path, token="an-operators-token-of-32-characters")
    assert found["statuses"] == [200, 403, 403, 200]
    assert found["imported"] == []


def test_the_store_says_whether_it_is_redis() -> None:
    """`on_redis` asks the class: a RedisStore (or a subclass) is; the memory store, and a
    wrapper forwarding every attribute to a RedisStore, are not (their calls are plain)."""
    redis = RedisStore("redis://127.0.0.1:1/0")  # never connected

    class Forwarding:
        def __getattr__(self, name: str) -> Any:
            return getattr(redis, name)

    class Subclass(RedisStore):
        pass

    assert on_redis(redis)
    assert on_redis(Subclass("redis://127.0.0.1:1/0"))
    assert not on_redis(MemoryStore())
    assert Forwarding().on_redis is True  # the instance forwards it; its class says nothing
    assert not on_redis(Forwarding())
