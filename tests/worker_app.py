"""An app factory for `uvicorn --workers N --factory tests.worker_app:create`: the demo gallery
with the settings in the JSON variable SCRAPESHIELD_TEST_SETTINGS, and an `X-Worker` header (the
answering process's id) on every response, shield refusals included; with leases, `X-Leased`:
how many requests that process has leased so far."""

from __future__ import annotations

import json
import os
from typing import Any

from scrapeshield import Settings, Shield
from scrapeshield.demo.app import create_app


class WorkerHeader:
    def __init__(self, app: Any, leases: Any = None) -> None:
        self.app = app
        self.pid = str(os.getpid()).encode()
        self.leases = leases

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def tagged(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-worker", self.pid)]
                if self.leases is not None:
                    used = str(self.leases.used).encode()
                    message["headers"].append((b"x-leased", used))
            await send(message)

        await self.app(scope, receive, tagged if scope["type"] == "http" else send)


def create() -> Any:
    settings = Settings(**json.loads(os.environ["SCRAPESHIELD_TEST_SETTINGS"]))
    app = create_app(settings)
    shield = next(m.kwargs["shield"] for m in app.user_middleware if "shield" in m.kwargs)
    assert isinstance(shield, Shield)
    return WorkerHeader(app, shield.leases)
