"""Rate-limit tests are about counting: fingerprinting is off so the test clients' user agents
(HTTP libraries, short strings) are judged by the limits alone. The combined behaviour is
covered by the demo and fingerprint end-to-end tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _limits_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPESHIELD_FINGERPRINT__ENABLED", "false")
