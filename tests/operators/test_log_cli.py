"""`scrapeshield log` against a real Redis and a JSON-lines file: closed pipes, NO_COLOR and
terminals, `tail -f` (the console script in its own process, as an operator runs it), a missing
file, a memory or unreachable store (in this process, tests/command.py)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from scrapeshield.bans import BanList
from scrapeshield.store import RedisStore
from tests.command import SCRIPT
from tests.command import cli as command
from tests.operators.test_read_api import event

COLOUR = re.compile(r"\x1b\[[0-9;]*3[0-7]m|\x1b\[[0-9;]*9[0-7]m|\x1b\[[0-9;]*38;")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`scrapeshield ...` in this process (tests/command.py), stdout and stderr not a terminal
    as when piped: a closed pipe, terminals and `tail -f` run the console script below."""
    return command(*args, env={"NO_COLOR": "", **(env or {})})


def seed_redis(url: str, prefix: str, events: list[dict[str, Any]], ban: str | None = None) -> None:
    async def go() -> None:
        store = RedisStore(url, prefix=prefix, timeout=5.0)
        try:
            for data in events:
                await store.append_event(data)
            if ban:
                await BanList(store).ban(ban, 3600, reason="scraping")
        finally:
            await store.aclose()

    asyncio.run(go())


@pytest.fixture
def redis_env(redis_url: str, redis_prefix: str) -> dict[str, str]:
    """300 events: the oldest is client 192.0.2.99's, then 299 newer of other clients."""
    events = [event(-1, client_key="192.0.2.99", rule="old-rule")] + [event(n) for n in range(299)]
    seed_redis(redis_url, redis_prefix, events, ban="192.0.2.99")
    return {"SCRAPESHIELD_STORE_URL": redis_url, "SCRAPESHIELD_STORE_PREFIX": redis_prefix}


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "blocklog.jsonl"
    lines = [json.dumps(event(-1, client_key="192.0.2.99", rule="old-rule"))]
    lines += [json.dumps(event(n)) for n in range(5000)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tail_client_finds_an_event_older_than_250_newer_ones(redis_env: dict[str, str]) -> None:
    result = cli("log", "tail", "--client", "192.0.2.99", "--json", env=redis_env)
    assert result.returncode == 0, result.stderr
    [found] = [json.loads(line) for line in result.stdout.splitlines()]
    assert found["rule"] == "old-rule"
    text = cli("log", "tail", "-n", "2", env=redis_env).stdout.splitlines()
    assert len(text) == 2
    assert "/art/298" in text[-1]
    assert "block" in text[-1]
    assert "\x1b" not in "".join(text)  # piped: plain


def test_show_client_summary_and_export_on_redis(redis_env: dict[str, str], tmp_path: Path) -> None:
    shown = cli("log", "show", "192.0.2.99", env=redis_env)
    assert shown.returncode == 0, shown.stderr
    assert "client 192.0.2.99: 1 events" in shown.stdout
    assert re.search(r"banned: (59m|60m|1h00m) left \(ban/manual; scraping\)", shown.stdout)
    assert "last refused:" in shown.stdout
    assert "old-rule" in shown.stdout
    assert "scrapeshield unban 192.0.2.99" in shown.stdout
    report = json.loads(cli("log", "show", "192.0.2.99", "--json", env=redis_env).stdout)
    assert report["ban"]["reason"] == "scraping"
    assert report["total"] == 1

    summary = json.loads(cli("log", "summary", "--json", env=redis_env).stdout)
    assert summary["total"] == 300
    assert summary["by_client"]["192.0.2.99"] == 1
    assert summary["by_category"] == {"scraper-tool": 300}
    text = cli("log", "summary", env=redis_env).stdout
    assert "300 events" in text
    assert "per hour (UTC)" in text
    assert "█" in text

    out = tmp_path / "export.csv"
    done = cli(
        "log", "export", "--format", "csv", "--out", str(out), "--path", "/art/1", env=redis_env
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert len(rows) == 1 + 10 + 100  # /art/1, /art/1x, /art/1xx (0..298)
    assert rows[0]["path"] == "/art/1"
    assert rows[0]["client_key"] == "198.51.100.1"
    lines = cli("log", "export", "--since", "1d", env=redis_env).stdout.splitlines()
    assert len(lines) == 300
    assert json.loads(lines[0])["rule"] == "old-rule"


def test_log_reads_a_json_lines_file(log_file: Path) -> None:
    found = cli("log", "tail", "--file", str(log_file), "--client", "192.0.2.99", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["rule"] == "old-rule"
    summary = json.loads(cli("log", "summary", "--file", str(log_file), "--json").stdout)
    assert summary["total"] == 5001
    assert cli("log", "show", "198.51.100.2", "--file", str(log_file)).stdout.startswith(
        "client 198.51.100.2: 1000 events in the log file"
    )


def test_a_closed_pipe_ends_quietly(log_file: Path) -> None:
    """`| head -1` closes the pipe after one line of ~750 KB: no traceback, the status of a
    tool killed by SIGPIPE."""
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {SCRIPT} log tail -n 5000 --file {log_file} | head -1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == ""
    assert result.returncode == 141


def terminal_output(*args: str, env: dict[str, str]) -> str:
    """Run the command with a pseudo-terminal as stdout, as in an operator's shell."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [SCRIPT, *args],
        stdout=secondary,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200", **env},
    )
    os.close(secondary)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(primary)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_on_a_terminal_and_none_with_no_color(log_file: Path) -> None:
    args = ("log", "tail", "-n", "3", "--file", str(log_file))
    coloured = terminal_output(*args, env={"NO_COLOR": "", "TERM": "xterm-256color"})
    assert "block" in coloured
    assert COLOUR.search(coloured)
    plain = terminal_output(*args, env={"NO_COLOR": "1", "TERM": "xterm-256color"})
    assert "block" in plain
    assert not COLOUR.search(plain)
    table = terminal_output("log", "summary", "--file", str(log_file), env={"NO_COLOR": "1"})
    assert "by action" in table
    assert "─" in table


def test_client_text_cannot_write_escape_sequences(tmp_path: Path) -> None:
    log = tmp_path / "evil.jsonl"
    log.write_text(
        json.dumps(event(1, user_agent="x\x1b]0;pwned\x07\x1b[31mred", path="/[b]x")) + "\n"
    )
    out = terminal_output("log", "tail", "--file", str(log), env={"NO_COLOR": "1"})
    assert "\x1b]0;" not in out
    assert "\\x1b]0;pwned" in out
    assert "/[b]x" in out  # no rich markup either


def test_errors_are_one_line_on_stderr(tmp_path: Path) -> None:
    missing = cli("log", "tail", "--file", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 1
    assert "no such log file" in missing.stderr
    assert "Traceback" not in missing.stderr
    memory = cli("log", "tail", "--store", "memory://")
    assert memory.returncode == 1
    assert memory.stdout == ""
    assert "memory://" in memory.stderr
    assert "--file" in memory.stderr
    for args in (["log", "show", "192.0.2.1"], ["log", "export"], ["evidence", "--agent", "X"]):
        down = cli(*args, "--store", "redis://127.0.0.1:1/0")
        assert down.returncode == 1, args
        assert "the store is unavailable" in down.stderr
        assert "Traceback" not in down.stderr
    bad = cli("log", "tail", "--until", "tomorrow", "--file", str(tmp_path))
    assert bad.returncode == 2
    assert "--until 'tomorrow'" in bad.stderr
    version = cli("--version")
    assert version.returncode == 0
    assert re.match(r"scrapeshield \d+\.\d+", version.stdout)


def test_tail_follow_prints_events_as_they_are_appended(tmp_path: Path) -> None:
    log = tmp_path / "blocklog.jsonl"
    log.write_text(json.dumps(event(1, rule="before")) + "\n")
    with subprocess.Popen(
        [SCRIPT, "log", "tail", "-f", "-n", "1", "--json", "--file", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        stdout = process.stdout
        assert stdout is not None

        def next_line() -> dict[str, Any]:
            ready, _, _ = select.select([stdout], [], [], 60)
            assert ready, "no line within 60 s"
            return dict(json.loads(stdout.readline()))

        try:
            assert next_line()["rule"] == "before"
            with log.open("a") as handle:
                handle.write(json.dumps(event(2, rule="after")) + "\n")
            assert next_line()["rule"] == "after"
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_an_ipv6_address_is_shown_as_its_client_key(tmp_path: Path) -> None:
    log = tmp_path / "blocklog.jsonl"
    log.write_text(json.dumps(event(1, client_key="2001:db8:1:2::/64")) + "\n")
    shown = cli("log", "show", "2001:db8:1:2::99", "--file", str(log))
    assert shown.stdout.startswith("client 2001:db8:1:2::/64: 1 events")
    tail = cli("log", "tail", "--client", "2001:db8:1:2::7", "--json", "--file", str(log))
    assert json.loads(tail.stdout)["client_key"] == "2001:db8:1:2::/64"
