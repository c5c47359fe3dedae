"""A FastAPI art site protected by scrapeshield, with per-route control in code.

Run it:  uvicorn main:app --no-proxy-headers   (from this directory; see README.md)
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from scrapeshield import ScrapeShield, Settings, route

HERE = Path(__file__).resolve().parent

api = APIRouter(prefix="/v1")


@api.get("/artworks/{artwork_id}")
@route.group("api")  # the api route group: its limits and RateLimit headers, never challenged
async def artwork_json(artwork_id: int) -> dict[str, object]:
    return {"id": artwork_id, "title": f"Artwork {artwork_id}"}


app = FastAPI()


@app.get("/", response_class=HTMLResponse)
async def gallery(request: Request) -> str:
    decision = request.state.scrapeshield  # what the shield decided about this request
    return f"<h1>Gallery</h1><p>shield: {decision.action.value} ({decision.rule})</p>"


@app.post("/login")
@route.limit("5/minute")  # its own limit per client, counted apart from every group
async def login() -> dict[str, bool]:
    return {"ok": True}


@app.get("/status")
@route.exempt  # never rate limited (monitoring polls it); still fingerprinted
async def status() -> dict[str, str]:
    return {"status": "up"}


@app.get("/art/{artwork_id}/original")
@route.budget  # an original: spends the visitor's originals budgets
async def original(artwork_id: int) -> PlainTextResponse:
    return PlainTextResponse(f"the full-size image of {artwork_id}")


@app.get("/healthz")
async def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")  # a health path: passed through before any check


app.include_router(api)
app.add_middleware(ScrapeShield, settings=Settings.from_file(HERE / "scrapeshield.toml"))
