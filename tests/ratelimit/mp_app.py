"""The app the multi-process test serves with `uvicorn --workers 4 --factory`.

Settings come from the TOML file named by SCRAPESHIELD_TEST_SETTINGS; `/pid` names the worker.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from scrapeshield import ScrapeShield, Settings


async def pid(request: Request) -> Response:
    return PlainTextResponse(str(os.getpid()))


def create() -> Starlette:
    app = Starlette(routes=[Route("/pid", pid)])
    app.add_middleware(
        ScrapeShield, settings=Settings.from_file(os.environ["SCRAPESHIELD_TEST_SETTINGS"])
    )
    return app
