"""App factories for `uvicorn --factory` in the HTTP benchmarks (settings from the environment).

BENCH_STORE_URL selects the store; limits are set far above what the load generator can send, so
every request takes the full rate-limit path and reaches the app. BENCH_DEFENCES=ratelimit turns
the other defences off (fingerprinting, identity, behaviour, challenge, directive headers), to
measure rate limiting on its own; the default, `all`, is the demo as shipped. BENCH_PERSON=on trusts
127.0.0.1 as a proxy (X-Forwarded-For: each person of benchmarks/person.py has its own address);
BENCH_STATS=<file> writes the shield's lease counts there at shutdown, and with BENCH_TALLY=on
every decision's rule and signals too (benchmarks.run's person rows: ~0.1 µs a request).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from scrapeshield import ScrapeShield, Settings, Shield
from scrapeshield.demo.app import TRAP_PATH, create_app, create_gallery
from scrapeshield.facts import Facts
from scrapeshield.signals import Decision
from scrapeshield.store import RedisStore

# The demo's `default` shape (a burst and an hourly client limit) plus one network limit, with
# quotas no load reaches: the same limits as bench_ratelimit.LIMITS.
CLIENT_LIMITS = "1000000000/10 seconds;1000000000/hour"
NETWORK_LIMITS = "1000000000/hour"
BENCH_KEY = "benchmark-only-key-" + "0" * 32  # a fixed challenge key: no warning per start


def bare() -> Starlette:
    return create_gallery()


def protected() -> Starlette:
    settings = bench_settings()
    client = os.environ.get("BENCH_REDIS_CLIENT")
    if stats := os.environ.get("BENCH_STATS"):
        return counted(settings, Path(stats))
    if client is None:
        return create_app(settings)
    app = create_gallery()
    app.add_middleware(ScrapeShield, shield=Shield(settings, store=redis_store(settings, client)))
    return app


def redis_store(settings: Settings, client: str) -> RedisStore:
    """The Redis store over the client bench_redis_clients names (`redis-py`, `glide`)."""
    options: dict[str, Any] = {"prefix": settings.store_prefix, "timeout": settings.store_timeout}
    if client == "glide":
        from benchmarks.redis_clients import GlideStore

        return GlideStore(settings.store_url, **options)
    return RedisStore(settings.store_url, **options)


def counted(settings: Settings, out: Path) -> Starlette:
    """The shipped app (as `create_app`) that writes its lease counts (and, BENCH_TALLY=on, its
    decisions by rule and its signals by name) to `out` as JSON when the server stops."""
    shield = Shield(settings)
    rules: Counter[str] = Counter()
    signals: Counter[str] = Counter()
    plain = [0]  # plain allows (no signal), counted apart: the cheap case, a person's

    def note(decision: Decision) -> Decision:
        if decision.reasons or decision.rule != "allow":
            rules[f"{decision.action.name.lower()} {decision.rule}"] += 1
            signals.update(reason.name for reason in decision.reasons)
        else:
            plain[0] += 1
        return decision

    async def later(found: Awaitable[Decision]) -> Decision:
        return note(await found)

    def tallied(facts: Facts, ctx: Any) -> Decision | Awaitable[Decision]:
        found = decide_now(facts, ctx)
        return note(found) if type(found) is Decision else later(found)  # type: ignore[arg-type]

    if os.environ.get("BENCH_TALLY") == "on":
        decide_now = shield.decide_now
        shield.decide_now = tallied  # type: ignore[method-assign]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        leases = shield.leases
        await shield.aclose()
        rules["allow allow"] += plain[0]
        figures: dict[str, Any] = {"decisions": +rules, "signals": dict(signals)}
        if leases is not None:
            figures |= {"granted": leases.granted, "leased": leases.used}
        out.write_text(json.dumps(figures), encoding="utf-8")  # noqa: ASYNC240 (at shutdown)

    app = create_gallery(lifespan)
    app.add_middleware(ScrapeShield, shield=shield)
    return app


def bench_settings(leases: bool | None = None) -> Settings:
    """The benchmarks' settings (BENCH_* variables); `leases` pins `lease.enabled` (None: as
    shipped, or SCRAPESHIELD_LEASE__ENABLED)."""
    others = os.environ.get("BENCH_DEFENCES", "all") != "ratelimit"
    return Settings(
        store_url=os.environ.get("BENCH_STORE_URL", "memory://"),
        store_prefix="bench:",
        ratelimit={
            "enabled": os.environ.get("BENCH_RATELIMIT", "on") == "on",
            "groups": {"default": {"limits": CLIENT_LIMITS, "network_limits": NETWORK_LIMITS}},
        },
        # Scores never refuse (as the limits are never reached): every detector does its work on
        # every request, and the request reaches the app, as a person's does.
        policy={"challenge_score": 1e9, "block_score": 1e9, "use_default_rules": False},
        fingerprint={"enabled": others},
        identity={"enabled": others},  # (its originals budgets are a defence of their own)
        behaviour={"enabled": others},
        challenge={"enabled": others, "secret_keys": [BENCH_KEY]},
        # BENCH_TRAPS=on: the demo's trap path too (its flag read on every request); not named
        # otherwise, so earlier figures still compare
        directives={
            "headers": others,
            **({"trap_paths": [TRAP_PATH]} if os.environ.get("BENCH_TRAPS") else {}),
        },
        # BENCH_METRICS=on: Prometheus metrics on (bench_decide --metrics compares); not named
        # otherwise, so the same file builds the settings of a tree from before metrics
        **({"metrics": {"enabled": True}} if os.environ.get("BENCH_METRICS") == "on" else {}),
        **({"trusted_proxies": ["127.0.0.1"]} if os.environ.get("BENCH_PERSON") == "on" else {}),
        # BENCH_STORE_TIMEOUT: a longer store deadline (bench_instructions' Redis kinds, which
        # valgrind slows fifty-fold: a reply past 0.25 s would count a fail-open path)
        **({"store_timeout": float(t)} if (t := os.environ.get("BENCH_STORE_TIMEOUT")) else {}),
        **({} if leases is None else {"lease": {"enabled": leases}}),
    )


def lane(record: bool | None = None) -> Starlette:
    """The lane probe (benchmarks/lane_probe.py) on the shipped settings, memory store
    (BENCH_LANE_CAP, BENCH_LANE_COUNT, BENCH_LANE_EXTRAS); with `record` (default:
    BENCH_LANE_RECORD=on) its variant counting on a compact client record (lane_record.py).
    With BENCH_STATS, its hits written there at shutdown in `counted`'s shape, as "leased"
    (benchmarks.run's leased column)."""
    from benchmarks import lane_probe, lane_record

    stats = os.environ.get("BENCH_STATS")  # (read now: bench_pace makes two probes in turn)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        probe = lane_probe.PROBES[-1]  # (made with the middleware stack, at the first call)
        yield
        if stats:
            served = {"allow allow": probe.hits + probe.misses}
            figures = {"decisions": served, "signals": {}, "granted": 0, "leased": probe.hits}
            Path(stats).write_text(json.dumps(figures), encoding="utf-8")  # noqa: ASYNC240

    app = create_gallery(lifespan)
    options = lane_probe.options_from_env()
    if record is None:
        record = os.environ.get("BENCH_LANE_RECORD") == "on"
    probe = lane_record.RecordProbe if record else lane_probe.LaneProbe
    # (leases off: the probe's misses are the pipeline's full evaluations, its hits its own)
    app.add_middleware(probe, settings=bench_settings(leases=False), **options)
    return app


class NoOp:
    """A pure-ASGI middleware that does nothing: the floor any middleware pays."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def noop() -> Starlette:
    app = create_gallery()
    app.add_middleware(NoOp)
    return app


def slowapi() -> Starlette:
    """slowapi, the usual Starlette rate limiter, with the same client limits on every route
    (its limits are keyed by address; it has no network key), on BENCH_STORE_URL."""
    from slowapi import Limiter
    from slowapi.middleware import SlowAPIMiddleware
    from slowapi.util import get_remote_address

    limits: list[str | Callable[..., str]] = [*CLIENT_LIMITS.split(";")]
    limiter = Limiter(
        key_func=get_remote_address,
        default_limits=limits,
        storage_uri=os.environ.get("BENCH_STORE_URL", "memory://"),
    )
    app = create_gallery()
    app.state.limiter = limiter
    app.add_middleware(SlowAPIMiddleware)
    return app
