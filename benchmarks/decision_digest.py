"""One digest of everything the shield answers and stores over the differential harness's
sequences: two trees with the same digest decide alike, for a change meant to keep behaviour.

.venv/bin/python -m benchmarks.decision_digest [--verbose]
PYTHONPATH=/tmp/base/src:. .venv/bin/python -m benchmarks.decision_digest   (another tree's src)

`tests/fastlane`'s harness compares two settings in one tree; a change of code (a detector made
cheaper, the shell made plainer) needs the same comparison across two trees. This sends the
harness's sequences (people at a reader's pace and in a hurry, then every adversary) to one
shield as shipped on the memory store, on the harness's fake clock with its seeded tokens and
request ids, and hashes every answer (the decision, its reasons, the status, every header the
shield adds, Set-Cookie values included) and what the store holds after each stage (counts,
sets, rows, bans, traps, events). Run it under each tree; equal digests mean equal answers and
state on these ~700 requests (in a child with `PYTHONHASHSEED=0`: the memory store keeps the
hashes of a distinct count's members, which Python seeds per process). `--verbose` prints each
stage's own digest, to find where two trees part.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest
from tests.fastlane import sequences
from tests.fastlane.differential import Request, Twins, stored


def canonical(value: Any) -> Any:
    """`value` with its sets and mappings in a sorted order: the same under any hash seed."""
    if isinstance(value, dict):
        return sorted(((canonical(k), canonical(v)) for k, v in value.items()), key=repr)
    if isinstance(value, set | frozenset):
        return sorted((canonical(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


async def digests() -> list[tuple[str, int, str]]:
    """(stage, requests, digest) for each stage, then the whole run's."""
    whole = hashlib.sha256()
    out = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        twins = Twins(monkeypatch)
        try:
            cookies = sequences.returning_cookies(twins, 6)
            stages: dict[str, Callable[[], list[Request]]] = {
                "persons": lambda: sequences.persons(6, 4, cookies),
                "hurried": lambda: sequences.persons(2, 30, cookies, pace=0.05),
                "readers": lambda: sequences.readers(4, 3, cookies),
                **sequences.ADVERSARIES,
            }
            for name, make in stages.items():
                seen = await twins.send(make())
                state = await stored(twins.fast.store)
                text = repr((seen, canonical(state))).encode()
                whole.update(text)
                out.append((name, len(seen), hashlib.sha256(text).hexdigest()[:16]))
        finally:
            await twins.aclose()
    out.append(("all", sum(n for _, n, _ in out), whole.hexdigest()[:16]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decision_digest")
    parser.add_argument("--verbose", action="store_true", help="each stage's digest too")
    args = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":  # the memory store keeps a set's members' hashes
        os.execve(
            sys.executable,
            [sys.executable, *sys.orig_argv[1:]],
            os.environ | {"PYTHONHASHSEED": "0"},
        )
    logging.disable(logging.WARNING)
    found = asyncio.run(digests())
    for name, requests, digest in found if args.verbose else found[-1:]:
        print(f"{name:20} {requests:5} requests  {digest}")


if __name__ == "__main__":
    main()
