"""The native in-memory limiter against a reference model, on a clock the test controls."""

from __future__ import annotations

import math
import random

import pytest

from scrapeshield import Settings
from scrapeshield.bans import BanList
from scrapeshield.facts import FactsBuilder
from scrapeshield.ratelimit.backends import closest
from scrapeshield.ratelimit.memory import NativeMemoryLimiter
from scrapeshield.ratelimit.plan import Keys, Planner, Rules
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action
from scrapeshield.store import MemoryStore, Store
from tests.ratelimit.helpers import group, request, shield_for

pytestmark = pytest.mark.clock_hour


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def plan_for(text: str, ip: str = "198.51.100.4") -> tuple[Rules, Keys]:
    settings = Settings(ratelimit={"groups": group(text)})
    facts = FactsBuilder(settings).build(synthetic_scope(ip=ip))
    plan = Planner(settings.ratelimit).plan(facts, {})
    assert plan is not None
    return plan


@pytest.mark.parametrize("seed", range(5))
async def test_sliding_windows_count_as_the_reference_model(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts per window index, weighted as the Lua script does; gaps of 0-2.5 windows cover
    the same window, the next one (the entry rolls) and later ones (the entry starts again)."""
    rng = random.Random(seed)
    clock = Clock(1_700_000_000.0 + rng.random() * 10)
    monkeypatch.setattr("scrapeshield.ratelimit.memory.time", clock)
    rules, keys = plan_for("12/10 seconds;40/minute")
    limits = rules.limits
    limiter = NativeMemoryLimiter(MemoryStore())
    counts: dict[tuple[str, int], int] = {}
    for _ in range(400):
        clock.now += rng.choice([0.0, 0.05, 0.3, 1.0, 4.0, 9.0, 12.0, 25.0]) * rng.random()
        cost = rng.choice([1, 1, 1, 2, 5])
        expected = []
        for lim, key in zip(limits, keys[0], strict=True):
            index = math.floor(clock.now / lim.window)
            elapsed = (clock.now % lim.window) / lim.window
            cur = counts.get((key, index), 0)
            prev = counts.get((key, index - 1), 0)
            expected.append(math.floor(prev * (1 - elapsed) + cur))
        admitted = all(c + cost <= lim.quota for c, lim in zip(expected, limits, strict=True))
        outcome = await limiter.hit(rules, keys, cost, "198.51.100.4", 0.0, False)
        assert (outcome.rejected is None) == admitted
        if admitted:
            for lim, key in zip(limits, keys[0], strict=True):
                at = (key, math.floor(clock.now / lim.window))
                counts[at] = counts.get(at, 0) + cost
            assert [s.remaining for s in outcome.states] == [
                lim.quota - c - cost for c, lim in zip(expected, limits, strict=True)
            ]
            # The limiter picks the RateLimit field's limit while counting, as `closest` does.
            assert outcome.closest is closest(outcome.states, None)
        else:
            assert [s.remaining for s in outcome.states] == [
                max(0, lim.quota - c) for c, lim in zip(expected, limits, strict=True)
            ]
            assert outcome.rejected is not None
            assert outcome.rejected.reset > 0
        assert len(limiter) <= len(limits)  # one entry per sliding-window limit


async def test_dry_run_and_rejections_write_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(1_700_000_000.0)
    monkeypatch.setattr("scrapeshield.ratelimit.memory.time", clock)
    limits = plan_for("3/10 seconds")
    limiter = NativeMemoryLimiter(MemoryStore())
    assert (await limiter.hit(*limits, 1, "c", 0.0, True)).states[0].remaining == 3
    assert len(limiter) == 0
    for left in (2, 1, 0):
        assert (await limiter.hit(*limits, 1, "c", 0.0, False)).states[0].remaining == left
    clock.now += 10.0  # the next window: the 3 hits now weigh as `prev`
    outcome = await limiter.hit(*limits, 1, "c", 0.0, False)
    assert outcome.rejected is not None  # the window just began: 3 * (1 - 0) weighs 3
    clock.now += 5.0  # half way: 3 * 0.5 = 1.5 counts as 1 (the rejection spent nothing)
    assert (await limiter.hit(*limits, 1, "c", 0.0, False)).states[0].remaining == 1


async def test_entries_stay_within_max_keys() -> None:
    limiter = NativeMemoryLimiter(MemoryStore(), max_keys=100)
    for n in range(1000):
        limits = plan_for("5/minute;50/hour", ip=f"10.{n // 250}.{n % 250}.1")
        assert (await limiter.hit(*limits, 1, str(n), 0.0, False)).rejected is None
        assert len(limiter) <= 100


async def test_a_banned_clients_hits_are_not_counted(store: Store) -> None:
    shield = shield_for(store, strategy="sliding-window-counter", groups=group("3/hour"))
    await BanList(store).ban("203.0.113.7", 3600, reason="test")
    for _ in range(5):
        assert (await request(shield))[0].rule == "ban/active"
    await BanList(store).unban("203.0.113.7")
    for _ in range(3):
        assert (await request(shield))[0].action is Action.ALLOW
    assert (await request(shield))[0].action is Action.THROTTLE


async def test_the_ban_phases_answer_is_trusted_on_the_memory_store() -> None:
    """The shield's memory path reads the ban once and hands its answer to the limiter: a
    context marked banned spends nothing even if the ban is gone from the store, and one
    marked not banned counts even if a ban appeared after the ban phase read it."""
    store = MemoryStore()
    shield = shield_for(store, groups=group("3/hour"))
    limiter = NativeMemoryLimiter(store)
    limits = plan_for("3/hour", ip="203.0.113.7")
    for _ in range(5):
        outcome = limiter.hit_now(*limits, 1, "203.0.113.7", 0.0, False, banned=True)
        assert outcome.rejected is None
        assert outcome.states[0].remaining == 3
    await BanList(store).ban("203.0.113.7", 3600, reason="test")
    outcome = limiter.hit_now(*limits, 1, "203.0.113.7", 0.0, False, banned=False)
    assert outcome.states[0].remaining == 2  # counted: this request's ban phase found no ban
    outcome = limiter.hit_now(*limits, 1, "203.0.113.7", 0.0, False)  # unknown: read the ban
    assert outcome.states[0].remaining == 2
    decision, ctx = await request(shield)
    assert decision.rule == "ban/active"
    assert ctx.banned is True


async def test_a_request_reads_the_ban_once_on_the_memory_store() -> None:
    class Counting(MemoryStore):
        ban_reads = 0

        def peek(self, key: str) -> str | None:
            self.ban_reads += key.startswith("ban:")
            return super().peek(key)

        def peek_ban(self, client_key: str) -> str | None:
            self.ban_reads += 1
            return super().peek_ban(client_key)

    store = Counting()
    shield = shield_for(store, groups=group("3/hour"))
    for n in range(1, 4):
        assert (await request(shield))[0].action is Action.ALLOW
        assert store.ban_reads == n


def test_an_admitted_sliding_hit_is_answered_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for the cost at both windows' whole counts, or only at the weighted count: either
    way the one-pass path (`_admit_sliding`) admits, and the general path (`_states`) is not
    asked; it answers only a request that some limit refuses."""
    rules, keys = plan_for("10/10 seconds")
    limiter = NativeMemoryLimiter(MemoryStore())
    start = 1_700_000_000.0
    for n in range(8):  # 8 of 10 in one window
        limiter.hit_now(rules, keys, 1, "k", 0.0, False, False, now=start + n * 0.01)

    def general(*_: object) -> None:
        raise AssertionError("the general path answered an admitted hit")

    monkeypatch.setattr(limiter, "_states", general)
    nxt = (int(start / 10) + 1) * 10.0
    # The next window, 80% through it: 8 weighted to 1.6; whole counts 8 + 0 + 1 fit too.
    assert limiter.hit_now(rules, keys, 1, "k", 0.0, False, False, now=nxt + 8).rejected is None
    # Whole counts 8 + 1 + 2 = 11 > 10, weighted int(1.6 + 1) + 2 = 4: admitted in one pass.
    assert limiter.hit_now(rules, keys, 2, "k", 0.0, False, False, now=nxt + 8).rejected is None
