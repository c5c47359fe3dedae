"""Decoy and tarpit over real HTTP (uvicorn on both loops), and their pieces."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from PIL import Image

from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.deterrents.decoy import FORMATS, extension_for, placeholder
from scrapeshield.deterrents.settings import TarpitSettings
from scrapeshield.deterrents.tarpit import Tarpit
from scrapeshield.errors import ConfigurationError
from scrapeshield.facts import Facts
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield, synthetic_scope
from scrapeshield.signals import Action, Signal
from tests.challenge.conftest import gallery
from tests.challenge.fakes import BudgetUse
from tests.challenge.helpers import IMAGE, KEY, NAVIGATE
from tests.servers import LOOPS

pytestmark = pytest.mark.clock_hour

TOOL = {"User-Agent": "python-requests/2.32.3", "Accept": "*/*"}
_PIL_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".gif": "GIF", ".webp": "WEBP", ".avif": "AVIF"}


def settings(**extra: Any) -> Settings:
    return Settings(site_name="Test Gallery", challenge={"secret_keys": [KEY]}, **extra)


# -- decoy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", sorted(_PIL_FORMATS))
def test_every_placeholder_is_a_valid_image_of_its_type(extension: str) -> None:
    body, media_type = placeholder(extension)
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == _PIL_FORMATS[extension]
        assert image.size == (640, 480)
        image.load()
    assert media_type == FORMATS[extension][1]


@pytest.mark.parametrize(
    ("path", "accept", "extension"),
    [
        ("/images/1.png", "image/avif", ".png"),
        ("/images/1.JPEG", "", ".jpeg"),
        ("/images/1", "image/avif,image/webp,*/*", ".avif"),
        ("/images/1", "image/webp,*/*", ".webp"),
        ("/images/1", "*/*", ".jpg"),
        ("/images/1.tiff", "", ".jpg"),
    ],
)
def test_the_decoy_matches_the_requested_type(path: str, accept: str, extension: str) -> None:
    shield = Shield(settings())
    facts = shield.facts(synthetic_scope(path=path, headers=[("accept", accept)]))
    assert extension_for(facts) == extension


@pytest.mark.parametrize("loop", LOOPS)
def test_an_over_budget_scraper_gets_a_decoy_it_cannot_tell_from_an_image(loop: str) -> None:
    budget = BudgetUse(0.0, groups=("images", "default"))
    with (
        gallery(settings(), detectors=[budget], loop=loop) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        real = client.get("/images/3.png", headers=IMAGE)
        assert real.status_code == 200
        budget.use = 2.0
        decoy = client.get("/images/3.png", headers=IMAGE)
        page = client.get("/artworks/3", headers=NAVIGATE)
    assert decoy.status_code == 200
    assert decoy.headers["content-type"] == "image/png"
    assert decoy.content == placeholder(".png")[0] != real.content
    assert decoy.headers["cache-control"] == "private, no-store"
    assert decoy.headers["x-robots-tag"] == real.headers["x-robots-tag"]
    assert set(decoy.headers) == set(real.headers)  # no header of ours, none missing
    assert "scrapeshield" not in str(decoy.headers).lower()
    assert page.status_code == 403  # a decoy verdict off the image routes is a block
    events = served.events()
    assert [(e["event"], e["action"], e["rule"]) for e in events] == [
        ("decoy", "decoy", "budget-refuse"),
        ("decision", "block", "no-decoy/budget-refuse"),
    ]


def test_a_head_request_gets_the_decoys_headers_without_its_body() -> None:
    with (
        gallery(settings(), detectors=[BudgetUse(2.0)]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        head = client.head("/images/3.png", headers=IMAGE)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(placeholder(".png")[0]))


def test_a_decoy_in_monitor_mode_is_logged_and_the_image_served() -> None:
    with (
        gallery(settings(mode="monitor"), detectors=[BudgetUse(2.0)]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        real = client.get("/images/3.png", headers=IMAGE)
    assert real.status_code == 200
    assert real.headers["cache-control"] == "public, max-age=86400"
    assert [(e["event"], e["action"], e["enforced"]) for e in served.events()] == [
        ("decision", "decoy", False)
    ]


async def _asgi_decoy(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-own", b"1")]})
    await send({"type": "http.response.body", "body": b"own"})


@pytest.mark.parametrize(
    ("responder", "body", "media_type"),
    [
        (lambda d, f: (b"small", "image/jpeg"), b"small", "image/jpeg"),
        (lambda d, f: None, placeholder(".png")[0], "image/png"),
        (lambda d, f: _asgi_decoy, b"own", None),
        (lambda d, f: 1 / 0, placeholder(".png")[0], "image/png"),
        (lambda d, f: "not bytes", placeholder(".png")[0], "image/png"),
    ],
    ids=["tuple", "none", "asgi-app", "raises", "wrong-type"],
)
def test_the_operators_decoy(responder: Any, body: bytes, media_type: str | None) -> None:
    config = settings(decoy={"responder": responder})
    with (
        gallery(config, detectors=[BudgetUse(2.0)]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        decoy = client.get("/images/3.png", headers=IMAGE)
    assert decoy.status_code == 200
    assert decoy.content == body
    if media_type is not None:
        assert decoy.headers["content-type"] == media_type


def test_an_async_decoy_responder() -> None:
    async def responder(decision: Any, facts: Facts) -> tuple[bytes, str]:
        await asyncio.sleep(0)
        return b"async:" + facts.path.encode(), "image/webp"

    with (
        gallery(settings(decoy={"responder": responder}), detectors=[BudgetUse(2.0)]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        decoy = client.get("/images/9.png", headers=IMAGE)
    assert (decoy.content, decoy.headers["content-type"]) == (b"async:/images/9.png", "image/webp")


def test_a_score_threshold_can_decoy() -> None:
    config = settings(policy={"decoy_score": 90, "block_score": 80})
    verdict = Shield(config).policy.evaluate([Signal("ua/empty", 50.0), Signal("x/more", 45.0)])
    assert (verdict.action, verdict.rule) == (Action.DECOY, "score/decoy")


def test_thresholds_the_highest_reached_decides() -> None:
    shield = Shield(settings(policy={"tarpit_score": 60, "decoy_score": 70}))
    evaluate = shield.policy.evaluate
    assert evaluate([Signal("x/a", 45.0)]).rule == "score/challenge"
    assert evaluate([Signal("x/a", 65.0)]).rule == "score/tarpit"
    assert evaluate([Signal("x/a", 75.0)]).rule == "score/decoy"
    assert evaluate([Signal("x/a", 85.0)]).rule == "score/block"
    tie = Shield(settings(policy={"decoy_score": 80})).policy.evaluate([Signal("x/a", 85.0)])
    assert tie.rule == "score/block"


# -- tarpit ---------------------------------------------------------------------------------------


class Limited(Immediate):
    """A rate limit's signal (it carries retry_after), for requests with `x-limited`."""

    name = "fake-limit"
    uses_store = False

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        if facts.header("x-limited"):
            return (Signal("ratelimit/pages/client", 0.0, "fake", retry_after=7.0),)
        return ()


def tarpit_settings(**tarpit: Any) -> Settings:
    options = {"base_delay": 1.5, "max_delay": 1.5, "max_concurrent": 2, **tarpit}
    rules = [
        {"name": "tarpit-tools", "signals": ["ua/category/scraper-tool"], "action": "tarpit"},
        {"name": "tarpit-limits", "signals": ["ratelimit/*"], "action": "tarpit"},
    ]
    return settings(tarpit=options, policy={"rules": rules})


async def _timed(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    started = time.monotonic()
    response = await client.get(path, headers=headers)
    return response.status_code, time.monotonic() - started, response


@pytest.mark.parametrize("loop", LOOPS)
def test_a_flood_of_tarpitted_requests_beyond_the_cap_is_refused_at_once(loop: str) -> None:
    async def flood(url: str) -> tuple[list[Any], Any]:
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
            tools = [asyncio.create_task(_timed(client, "/artworks/1", TOOL)) for _ in range(6)]
            await asyncio.sleep(0.3)
            person = await _timed(client, "/artworks/2", NAVIGATE)
            return await asyncio.gather(*tools), person

    with gallery(tarpit_settings(), detectors=[Limited()], loop=loop) as served:
        held, person = asyncio.run(flood(served.url))
        assert served.shield.tarpit.held == 0
        assert served.shield.tarpit.peak == 2
    assert person[0] == 200  # served meanwhile...
    assert person[1] < 1.0  # ...at once
    assert sorted(status for status, _, _ in held) == [403] * 6
    waits = sorted(seconds for _, seconds, _ in held)
    assert all(w < 1.0 for w in waits[:4]), waits  # past the cap: at once
    assert all(1.4 <= w < 5.0 for w in waits[4:]), waits  # held, within the deadline
    assert all(r.json()["error"] == "block" for _, _, r in held)  # never names the tarpit
    events = [e for e in served.events() if e["action"] == "tarpit"]
    assert [e["event"] for e in events] == ["tarpit"] * 6


@pytest.mark.parametrize("loop", LOOPS)
def test_a_tarpitted_rate_limit_ends_in_a_429(loop: str) -> None:
    with (
        gallery(tarpit_settings(), detectors=[Limited()], loop=loop) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        started = time.monotonic()
        limited = client.get("/artworks/1", headers={**NAVIGATE, "x-limited": "1"})
        waited = time.monotonic() - started
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert 1.4 <= waited < 5.0


def test_a_client_that_leaves_frees_its_place() -> None:
    with gallery(tarpit_settings(base_delay=30, max_delay=30)) as served:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(served.url + "/artworks/1", headers=TOOL, timeout=0.5)
        deadline = time.monotonic() + 5
        while served.shield.tarpit.held and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served.shield.tarpit.held == 0
        assert served.shield.tarpit.peak == 1


def test_the_delay_grows_with_the_score_and_is_bounded() -> None:
    tarpit = Tarpit(TarpitSettings(), threshold=40.0)
    assert tarpit.delay_for(0) == 2.0
    assert tarpit.delay_for(60) == pytest.approx(3.0)
    assert tarpit.delay_for(10_000) == 10.0
    assert tarpit.delay_for(float("nan")) == 2.0
    assert tarpit.delay_for(float("inf")) == 10.0


def test_tarpit_settings_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="max_delay"):
        Settings(tarpit={"base_delay": 20, "max_delay": 5})
    with pytest.raises(ConfigurationError, match="max_concurrent"):
        Settings(tarpit={"max_concurrent": -1})
    with pytest.raises(ConfigurationError, match=r"policy\.rules\.0\.action"):
        Settings(policy={"rules": [{"name": "x", "signals": ["a"], "action": "maze"}]})


# -- explain --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "path", "expected"),
    [
        ("decoy_score = 45", "/images/4.webp", "response  200 with a decoy image (image/webp)"),
        ("decoy_score = 45", "/artworks/4", "decision  block  (rule no-decoy/score/decoy)"),
        ("tarpit_score = 45", "/artworks/4", "response  held 2.5 s (at most 64 at once"),
    ],
)
def test_explain_says_what_a_deterrent_sends(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], policy: str, path: str, expected: str
) -> None:
    from scrapeshield.cli import main

    config = tmp_path / "scrapeshield.toml"
    config.write_text(f"[policy]\n{policy}\n")
    assert main(["explain", "--ua", "", "--path", path, "--config", str(config)]) == 0
    assert expected in capsys.readouterr().out
