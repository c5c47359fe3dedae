"""Prometheus metrics: real requests to a real server, then the metrics endpoint scraped with an
HTTP client and parsed with prometheus_client's own parser; the counts match the store."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from scrapeshield import ConfigurationError, ScrapeShield, Settings, Shield
from scrapeshield.metrics.labels import OTHER, known_rules
from scrapeshield.signals import Action, Decision, Signal
from scrapeshield.store.base import Store
from tests.browsers import chrome
from tests.operators_app import (
    CHALLENGE_KEY,
    MOUNT,
    STORES,
    TOKEN,
    bearer,
    operators_app,
    store_settings,
)
from tests.servers import LOADED_STORE_TIMEOUT, LOOPS, RedisServer, redis_store_settings, serve

pytestmark = pytest.mark.clock_hour

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36"
)
NAVIGATION = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def settings(**store: Any) -> Settings:
    return Settings(
        metrics={"enabled": True},
        dashboard={"tokens": [TOKEN]},
        challenge={"secret_keys": [CHALLENGE_KEY]},
        **store,
    )


def scrape(client: httpx.Client) -> Samples:
    response = client.get(f"{MOUNT}/metrics", headers=bearer())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


async def stored_events(store: Store) -> list[dict[str, Any]]:
    return [e.data for e in await store.read_events(limit=1000)]


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("loop", LOOPS)
def test_scraped_counts_match_the_requests_and_the_store(
    loop: str, kind: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    app, shield = operators_app(settings(**store_settings(kind, redis_server, redis_prefix)))
    sent: Counter[str] = Counter()
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        assert client.get(f"{MOUNT}/metrics").status_code == 401  # behind the dashboard's auth
        wrong = {"Authorization": "Bearer " + "x" * len(TOKEN)}
        assert client.get(f"{MOUNT}/metrics", headers=wrong).status_code == 401
        for n in range(5):
            sent["person"] += client.get(f"/artworks/{n + 1}", headers=chrome()).status_code == 200
        for _ in range(3):
            response = client.get("/artworks/7", headers={"User-Agent": GPTBOT})
            sent["gptbot"] += response.status_code == 403
        for _ in range(2):
            response = client.get("/", headers={"User-Agent": HEADLESS, **NAVIGATION})
            sent["headless"] += "challenge" in response.text.lower()
        answer = client.post(
            shield.settings.challenge.path,
            data={"token": "forged", "counter": "1"},
            headers={"User-Agent": HEADLESS},
        )
        assert answer.status_code == 403
        samples = scrape(client)
        events = asyncio.run(stored_events(shield.store)) if kind == "memory" else None
    if events is None:
        events = asyncio.run(_read_redis(redis_server.url, redis_prefix))
    assert sent == {"person": 5, "gptbot": 3, "headless": 2}

    decisions = "scrapeshield_decisions_total"
    assert total(samples, decisions, action="allow", rule="allow") == 5
    assert total(samples, decisions, action="block", rule="ai-crawler", category="ai-training") == 3
    # Every refused or challenged request is one stored event and one count, by action and rule.
    decided = Counter(
        (e["action"], e["rule"])
        for e in events
        if e["event"] not in ("challenge/passed", "challenge/failed")
    )
    counted = Counter(
        {
            (dict(labels)["action"], dict(labels)["rule"]): int(value)
            for (name, labels), value in samples.items()
            if name == decisions and dict(labels)["action"] != "allow"
        }
    )
    assert counted == decided
    issued = sum(e["event"] == "challenge/issued" for e in events)
    assert issued == 2
    assert total(samples, "scrapeshield_challenges_total", outcome="issued") == issued
    assert total(samples, "scrapeshield_challenges_total", outcome="failed") == 1
    assert total(samples, "scrapeshield_added_latency_seconds_count") == 10
    assert total(samples, "scrapeshield_store_errors_total", store=kind) == 0
    assert total(samples, "scrapeshield_store_breaker_state", store=kind, state="closed") == 1
    # No label holds a client address or a path.
    values = {v for _, labels in samples for _, v in labels}
    assert not any("127.0.0.1" in v or "/artworks" in v for v in values)


async def _read_redis(url: str, prefix: str) -> list[dict[str, Any]]:
    from scrapeshield.store import RedisStore

    store = RedisStore(url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        return await stored_events(store)
    finally:
        await store.aclose()


@pytest.mark.parametrize("loop", LOOPS)
def test_an_outage_shows_as_store_errors_and_an_open_breaker(
    loop: str, own_redis: RedisServer
) -> None:
    app, _ = operators_app(settings(**redis_store_settings(own_redis.url), breaker_cooldown=60))
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/", headers=chrome()).status_code == 200
        before = scrape(client)
        assert total(before, "scrapeshield_store_breaker_state", state="closed") == 1
        own_redis.stop()
        assert client.get("/", headers=chrome()).status_code == 200  # fails open
        # refused for longer than the store's timeout: the next failure opens the breaker
        time.sleep(LOADED_STORE_TIMEOUT + 0.1)
        assert client.get("/", headers=chrome()).status_code == 200
        after = scrape(client)
    assert total(after, "scrapeshield_store_errors_total", store="redis") >= 1
    assert total(after, "scrapeshield_store_breaker_state", state="open") == 1
    assert total(after, "scrapeshield_store_breaker_state", state="closed") == 0


async def test_registered_on_the_apps_registry_once() -> None:
    registry = CollectorRegistry()
    config = {"enabled": True, "registry": registry}
    shield = Shield(Settings(metrics=config))
    app = ScrapeShield(_ok, shield=shield)
    await _get(app, "GPTBot/1.2")
    text = generate_latest(registry).decode()
    assert 'scrapeshield_decisions_total{action="block"' in text
    with pytest.raises(ConfigurationError, match=r"metrics\.registry"):
        Shield(Settings(metrics=config))
    await shield.aclose()  # unregisters: another shield may take its place
    again = Shield(Settings(metrics=config))
    await again.aclose()


def test_bad_metrics_settings_are_named() -> None:
    with pytest.raises(ConfigurationError, match=r"metrics\.registry"):
        Settings(metrics={"enabled": True, "registry": "REGISTRY"})
    with pytest.raises(ConfigurationError, match=r"metrics\.buckets"):
        Settings(metrics={"buckets": [0.1, 0.01]})


def test_without_the_extra_enabling_metrics_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "scrapeshield.metrics.core", raising=False)
    with pytest.raises(ConfigurationError, match=r"scrapeshield\[prometheus\]"):
        Shield(Settings(metrics={"enabled": True}))
    Shield(Settings())  # off (the default): nothing of it is imported


def test_off_by_default_the_plain_middleware_runs() -> None:
    plain = ScrapeShield(_ok, settings=Settings())
    assert type(plain) is ScrapeShield
    assert plain.shield.metrics is None
    metered = ScrapeShield(_ok, settings=Settings(metrics={"enabled": True}))
    assert type(metered) is not ScrapeShield
    assert isinstance(metered, ScrapeShield)


def test_label_values_are_bounded() -> None:
    shield = Shield(Settings(metrics={"enabled": True}))
    metrics = shield.metrics
    assert metrics is not None
    rules = known_rules(shield.settings)
    assert {"ai-crawler", "unanswered/headless-browser", "score/block"} <= rules
    scope: dict[str, Any] = {"state": {}}
    reasons = (
        Signal("ua/category/not-a-category", 1.0),
        Signal("budget/visitor/hour/refuse", 0.0),
        Signal("budget/made-up/week", 0.0),
    )
    for rule in ("rule/from/nowhere", "ai-crawler"):
        scope["state"]["scrapeshield"] = Decision(Action.BLOCK, rule, reasons=reasons)
        metrics.observe(scope, 0.0, 0.001)
    text = generate_latest(metrics.registry).decode()
    assert f'rule="{OTHER}"' in text
    assert 'rule="ai-crawler"' in text
    assert 'category="other"' in text
    assert "not-a-category" not in text
    assert 'budget="visitor/hour",outcome="refuse"' in text
    assert 'budget="other",outcome="over"' in text
    assert "made-up" not in text


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _get(app: Any, user_agent: str) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/artworks/1", headers={"User-Agent": user_agent})
