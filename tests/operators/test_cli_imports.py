"""What `scrapeshield log --file` imports: a log file is read without the store, redis-py or the
settings (pydantic and every section's model), so the command starts in ~0.2 s where it took
~0.8 s (benchmarks/bench_cli_start.py). Each case runs `main` in a fresh interpreter: this one
has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scrapeshield.cli.common import ENV_PREFIX
from scrapeshield.settings import ENV_PREFIX as SETTINGS_ENV_PREFIX
from tests.operators.test_read_api import event

HEAVY = (
    "redis",
    "pydantic",
    "pydantic_settings",
    "scrapeshield.settings",
    "scrapeshield.store.memory",
    "scrapeshield.store.redis",
    "scrapeshield.bans",
    "scrapeshield.shield",
)
PROBE = f"""
import json, sys
from scrapeshield.cli import main
code = main(sys.argv[2:])
heavy = {HEAVY!r}
with open(sys.argv[1], "w") as out:
    json.dump({{"code": code, "imported": [m for m in heavy if m in sys.modules]}}, out)
"""


def probe(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`main(args)` in a fresh interpreter with no `SCRAPESHIELD_*` variable but `env`: its exit
    code, which of HEAVY it imported, and its stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith(ENV_PREFIX)}
    result = tmp_path / "probe.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(result), *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: dict[str, Any] = json.loads(result.read_text())
    return found | {"stderr": done.stderr, "stdout": done.stdout}


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "blocklog.jsonl"
    path.write_text("".join(json.dumps(event(n)) + "\n" for n in range(20)))
    return path


@pytest.mark.parametrize(
    ("view", "printed"),
    [
        (["tail"], "/art/19"),
        (["tail", "--json"], '"request_id":"r19"'),
        (["summary"], "20 events"),
        (["summary", "--json"], '"total": 20'),
        (["export"], '"request_id":"r0"'),
    ],
    ids=["tail", "tail --json", "summary", "summary --json", "export"],
)
def test_reading_a_log_file_imports_no_store_nor_settings(
    tmp_path: Path, log_file: Path, view: list[str], printed: str
) -> None:
    found = probe(tmp_path, "log", *view, "--file", str(log_file))
    assert found["code"] == 0, found["stderr"]
    assert found["imported"] == []
    assert printed in found["stdout"]


def test_an_option_that_uses_the_settings_still_loads_them(tmp_path: Path, log_file: Path) -> None:
    """`--client` groups an address as requests are (settings ipv4_prefix, ipv6_prefix): the
    probe sees the settings imported (still no store), and the client's events only."""
    found = probe(tmp_path, "log", "--file", str(log_file), "--client", "198.51.100.1", "--json")
    assert found["code"] == 0, found["stderr"]
    assert found["imported"] == ["pydantic", "pydantic_settings", "scrapeshield.settings"]
    lines = [json.loads(line) for line in found["stdout"].splitlines()]
    assert len(lines) == 4
    assert {e["client_key"] for e in lines} == {"198.51.100.1"}


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {"SCRAPESHIELD_STORE_URL": "bogus"}),
        ((), {"scrapeshield_store_url": "bogus"}),  # the settings read any case
        (("--store", "bogus"), {}),
    ],
)
def test_a_bad_setting_still_fails_a_log_file_read(
    tmp_path: Path, log_file: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    """A setting given (a variable, `--store`, `--config`) is still validated, so a mistake is
    reported as before rather than silently ignored until the command reads a store."""
    found = probe(tmp_path, "log", "--file", str(log_file), *args, env=env)
    assert found["code"] == 2
    assert "'bogus' is not a store URL" in found["stderr"]
    assert found["stdout"] == ""


def test_the_cli_names_the_settings_prefix_as_the_settings_do() -> None:
    assert ENV_PREFIX == SETTINGS_ENV_PREFIX
