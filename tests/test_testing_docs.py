"""docs/testing.md holds: its example tests pass as written, and a TestClient left with its
`testclient` peer is warned about by name (not as a Unix-socket proxy)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from scrapeshield import ScrapeShield, Settings

PAGE = Path(__file__).resolve().parent.parent / "docs" / "testing.md"


def _namespace() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text("utf-8"), re.DOTALL)
    assert blocks
    namespace: dict[str, Any] = {"__name__": "testing_md"}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)
    return namespace


def test_the_documented_tests_pass() -> None:
    namespace = _namespace()
    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert len(tests) == 3
    for test in tests:
        test()


def test_the_default_test_client_is_named_in_the_warning(caplog: pytest.LogCaptureFixture) -> None:
    async def page(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", page)])
    app.add_middleware(ScrapeShield, settings=Settings(challenge={"secret_keys": ["t" * 32]}))
    with caplog.at_level(logging.WARNING, logger="scrapeshield"), TestClient(app) as client:
        client.get("/")
        client.get("/")
    warnings = [r.getMessage() for r in caplog.records if "TestClient" in r.getMessage()]
    assert len(warnings) == 1  # once per process
    assert "TEST_CLIENT_ADDRESS" in warnings[0]
    assert not any("Unix" in r.getMessage() for r in caplog.records)
