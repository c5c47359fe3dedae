"""`scrapeshield ...` run in the test's own process, as the console script runs it.

A fresh interpreter costs ~1 s of imports before the command's first line (more on a loaded
machine), and most CLI tests are about what the command prints and returns, not about the
process: those call `scrapeshield.cli.main` (what the console script calls) with the argument
list and the environment the process would have had, and read its stdout, stderr and exit
status. The tests about the process boundary itself (the console script installed, a closed
pipe, a terminal, `tail -f`, a ban written by one process and enforced by a server) still start
one.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

from scrapeshield.cli import main
from tests.servers import LOADED_STORE_ENV

SCRIPT = os.path.join(os.path.dirname(sys.executable), "scrapeshield")  # the console script


def run_main(args: tuple[str, ...], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`main(args)` with `env` over this process's environment (restored after), its output
    captured; argparse's exits (usage errors, --help, --version) are its exit status, as in a
    process. An exception `main` does not handle propagates: a traceback fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:  # sys.exit("message"): printed, status 1, as the interpreter does
                print(exc.code, file=err)
                code = 1
    return subprocess.CompletedProcess(
        ["scrapeshield", *args], code, out.getvalue(), err.getvalue()
    )


def cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`scrapeshield ...` in this process, with the environment its own process would have (a
    loaded machine's store timeout, tests/servers.py, under `env`)."""
    return run_main(args, {**LOADED_STORE_ENV, **(env or {})})


def cli_process(
    *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`scrapeshield ...` as the console script, in its own process, as an operator runs it."""
    return subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **LOADED_STORE_ENV, **(env or {})},
        check=False,
    )
