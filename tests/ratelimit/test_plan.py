"""Groups, exemptions, keys and cost, resolved from settings without any store."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from scrapeshield import Settings
from scrapeshield.errors import ConfigurationError
from scrapeshield.facts import Facts, FactsBuilder
from scrapeshield.ratelimit.escalation import Escalation
from scrapeshield.ratelimit.plan import PLAN_CACHE_SIZE, Planner, safe_key
from scrapeshield.ratelimit.settings import VERIFIED_BOT_NOTE, EscalationSpec
from scrapeshield.settings import DEFAULT_ROUTE_GROUPS
from scrapeshield.shield import synthetic_scope

pytestmark = pytest.mark.clock_hour

GROUPS: dict[str, Any] = {
    "default": {"limits": "60/minute"},
    "pages": {"limits": "30/minute"},
    "originals": {"limits": "20/hour", "cost": 5},
    "images": {"limits": "300/minute"},
    "search": {"limits": "10/minute"},
    "bots": {"limits": "1000/minute"},
}
ROUTE_GROUPS: list[dict[str, Any]] = [
    {"name": "pages", "paths": ["/artworks/*"]},
    {"name": "originals", "paths": ["/images/*/original"]},
    {"name": "search", "paths": ["/search"], "methods": ["get", "POST"]},
    *(group.model_dump() for group in DEFAULT_ROUTE_GROUPS),
]


def planner(**ratelimit: Any) -> tuple[Planner, FactsBuilder]:
    ratelimit.setdefault("groups", GROUPS)
    settings = Settings(ratelimit=ratelimit, route_groups=ROUTE_GROUPS)
    return Planner(settings.ratelimit), FactsBuilder(settings)


def facts(builder: FactsBuilder, path: str = "/", **kw: Any) -> Facts:
    return builder.build(synthetic_scope(path=path, **kw))


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/artworks/7", "pages"),
        ("GET", "/images/7/original", "originals"),  # the first route group that matches
        ("GET", "/images/7.png", "images"),  # route group of the same name
        ("GET", "/search", "search"),
        ("DELETE", "/search", "default"),  # method not listed
        ("GET", "/api/artworks", "default"),  # route group without a limit group
        ("GET", "/static/gallery.css", "default"),  # not exempt unless listed
        ("GET", "/terms", "default"),
    ],
)
def test_group_matching(method: str, path: str, expected: str) -> None:
    plan, builder = planner()
    assert plan.group_for(facts(builder, path, method=method), {}) == expected


def test_exempt_paths_are_explicit() -> None:
    plan, builder = planner(exempt=["/healthz", "/static/*"])
    assert plan.plan(facts(builder, "/healthz"), {}) is None
    assert plan.plan(facts(builder, "/static/gallery.css"), {}) is None
    assert plan.plan(facts(builder, "/healthz/x"), {}) is not None


def test_verified_bot_hook_chooses_its_own_group() -> None:
    plan, builder = planner(bot_groups={"Googlebot": "bots"}, exempt=["/healthz"])
    request = facts(builder, "/artworks/1")
    assert plan.group_for(request, {VERIFIED_BOT_NOTE: "Googlebot"}) == "bots"
    # a verified bot without a group of its own is not limited at all (never below its group)
    assert plan.group_for(request, {VERIFIED_BOT_NOTE: "Bingbot"}) is None
    assert plan.plan(request, {VERIFIED_BOT_NOTE: "Bingbot"}) is None
    assert plan.group_for(request, {}) == "pages"
    everyone, _ = planner(bot_groups={"*": "bots"})
    assert everyone.group_for(request, {VERIFIED_BOT_NOTE: "Bingbot"}) == "bots"


def test_cost_and_storage_keys() -> None:
    plan, builder = planner()
    found = plan.plan(facts(builder, "/images/3/original", ip="192.0.2.9"), {})
    assert found is not None
    rules, keys = found
    assert (rules.group, rules.cost, rules.action) == ("originals", 5, "throttle")
    assert keys[0] == ("rl:client:originals:{192.0.2.9}:20/3600s:3",)


def test_ipv6_client_key_groups_a_64_by_default_and_is_configurable() -> None:
    plan, builder = planner()
    a = plan.client_key(facts(builder, ip="2001:db8:1:2::1"))
    b = plan.client_key(facts(builder, ip="2001:db8:1:2:ffff::9"))
    c = plan.client_key(facts(builder, ip="2001:db8:1:3::1"))
    assert a == b == "2001:db8:1:2::/64"
    assert c != a
    wide, builder = planner(ipv6_prefix=48)
    assert wide.client_key(facts(builder, ip="2001:db8:1:3::1")) == "2001:db8:1::/48"
    exact, builder = planner(ipv6_prefix=128)
    assert exact.client_key(facts(builder, ip="2001:db8:1:3::1")) == "2001:db8:1:3::1"


@pytest.mark.parametrize("prefix", [47, 129])
def test_ipv6_prefix_is_bounded(prefix: int) -> None:
    with pytest.raises(ConfigurationError, match=r"ratelimit\.ipv6_prefix"):
        Settings(ratelimit={"ipv6_prefix": prefix})


def test_network_keys() -> None:
    plan, builder = planner()
    assert plan.network_key(facts(builder, ip="192.0.2.77")) == "192.0.2.0/24"
    assert plan.network_key(facts(builder, ip="2001:db8:1:2::1")) == "2001:db8:1::/48"


def test_user_key_from_header_cookie_or_callable() -> None:
    plan, builder = planner(user={"header": "X-User-Id", "cookie": "uid"})
    assert plan.user_key(facts(builder, headers=[("x-user-id", "alice")])) == "alice"
    assert plan.user_key(facts(builder, headers=[("cookie", "a=1; uid=bob")])) == "bob"
    assert plan.user_key(facts(builder)) is None
    by_call, builder = planner(user={"resolve": lambda f: f.header("x-auth") or None})
    assert by_call.user_key(facts(builder, headers=[("x-auth", "carol")])) == "carol"


def test_unusual_user_ids_become_digests() -> None:
    assert safe_key("alice") == "alice"
    hashed = safe_key("a" * 500)
    assert hashed.startswith("h-")
    assert len(hashed) == 34
    assert safe_key("név ü").startswith("h-")


@pytest.mark.parametrize(
    ("ratelimit", "setting"),
    [
        ({"groups": {"pages": {"limits": "1/minute"}}}, "ratelimit.groups"),
        ({"groups": {"default": {"limits": "lots"}}}, "ratelimit.groups.default.limits"),
        ({"groups": {"default": {"limits": "2/minute", "cost": 3}}}, "ratelimit.groups.default"),
        ({"groups": {"default": {"action": "ban"}}}, "ratelimit.groups.default.action"),
        ({"bot_groups": {"Googlebot": "nope"}}, "ratelimit"),
        ({"strategy": "token-bucket"}, "ratelimit.strategy"),
    ],
)
def test_bad_settings_name_the_setting(ratelimit: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings(ratelimit=ratelimit)
    assert setting in str(info.value)


def test_ban_durations_escalate_and_are_capped() -> None:
    escalation = Escalation(EscalationSpec(ban=600, factor=4, max_ban=86_400))
    assert [escalation.duration(n) for n in (1, 2, 3, 4)] == [600, 2400, 9600, 38400]
    assert escalation.duration(5) == 86_400
    assert escalation.duration(10_000) == 86_400  # no overflow however many bans
    assert Escalation(EscalationSpec(factor=1, ban=60)).duration(50) == 60


def test_plans_are_reused_per_client_and_the_cache_is_bounded() -> None:
    plan, builder = planner(
        groups={"default": {"limits": "60/minute", "network_limits": "600/hour"}}
    )
    plan.max_plans = 50
    first = plan.plan(facts(builder, ip="192.0.2.9"), {})
    again = plan.plan(facts(builder, "/terms", ip="192.0.2.9"), {})
    assert first is not None
    assert again is not None
    assert again[1] is first[1]  # same group, same client: the cached keys, not new ones
    assert again[0] is first[0]  # a group's rules are shared by its clients
    neighbour = plan.plan(facts(builder, ip="192.0.2.10"), {})
    assert neighbour is not None
    rules, (keys, redis_keys, _) = neighbour
    assert keys == (
        "rl:client:default:{192.0.2.10}:60/60s:3",
        "rl:network:default:{192.0.2.0/24}:600/3600s:3",
    )
    assert rules is first[0]
    assert redis_keys == (
        "rl:client:default:{192.0.2.10}:60/60s:3/0",
        "rl:client:default:{192.0.2.10}:60/60s:3/1",
        "rl:network:default:{192.0.2.0/24}:600/3600s:3/0",
        "rl:network:default:{192.0.2.0/24}:600/3600s:3/1",
    )
    assert rules.policy == (
        b'"default-client-60-60s";q=60;w=60, "default-network-600-3600s";q=600;w=3600'
    )
    for n in range(1000):
        plan.plan(facts(builder, ip=f"2001:db8:{n:x}::1"), {})
    assert len(plan._plans) == 50
    compiled = plan.plan(facts(builder, ip="192.0.2.9"), {})
    assert compiled is not None
    assert compiled[1] is not first[1]  # evicted, compiled again
    assert compiled[1] == first[1]


def test_a_clients_cached_plan_is_not_tracked_by_the_garbage_collector() -> None:
    """What the planner keeps per client is strings and numbers in plain tuples, which a
    collection stops tracking: every full collection would walk tracked objects, for every
    client (docs/log/store.md, "Per-client state"). The limits are the group's, shared."""
    plan, builder = planner(
        groups={"default": {"limits": "60/minute", "network_limits": "600/hour"}}
    )
    found = [plan.plan(facts(builder, ip=f"192.0.2.{n}"), {}) for n in range(1, 40)]
    assert len(plan._plans) == 39
    assert len({id(p[0]) for p in found if p is not None}) == 1
    gc.collect()  # (an entry whose tuples a collection saw after it is untracked by the next)
    gc.collect()
    for key, entry in plan._plans.items():
        assert entry
        assert not gc.is_tracked(key)
        assert not gc.is_tracked(entry)


def test_a_cached_plan_is_only_reused_for_its_own_address() -> None:
    """Plans are cached by client key; two addresses may share one (the foundation's /64)
    while the limiter counts them apart (`ipv6_prefix = 128`): each gets its own plan."""
    plan, builder = planner(ipv6_prefix=128, groups={"default": {"limits": "60/minute"}})
    keys = []
    for ip in ("2001:db8::1", "2001:db8::2", "2001:db8::1"):
        found = plan.plan(facts(builder, ip=ip), {})
        assert found is not None
        keys.append(found[1][0][0])
    assert keys == [
        "rl:client:default:{2001:db8::1}:60/60s:3",
        "rl:client:default:{2001:db8::2}:60/60s:3",
        "rl:client:default:{2001:db8::1}:60/60s:3",
    ]


def test_groups_are_cached_per_path_and_the_cache_is_bounded() -> None:
    plan, builder = planner(exempt=["/healthz"])
    for n in range(PLAN_CACHE_SIZE + 10):
        assert plan.group_for(facts(builder, f"/artworks/{n}"), {}) == "pages"
        assert len(plan._paths) <= PLAN_CACHE_SIZE
    long_path = "/artworks/" + "9" * 300
    assert plan.group_for(facts(builder, long_path), {}) == "pages"
    assert ("GET", long_path, "default") not in plan._paths  # long paths are not kept
    assert plan.group_for(facts(builder, "/healthz"), {}) is None  # exempt, cached or not
    assert plan.group_for(facts(builder, "/healthz"), {}) is None


@pytest.mark.parametrize("key", ["paths", "methods"])
def test_limit_group_paths_moved_to_route_groups(key: str) -> None:
    """One way to give paths a group: a limit group's old `paths`/`methods` fail at start-up,
    naming the setting and its replacement."""
    with pytest.raises(ConfigurationError) as info:
        Settings(ratelimit={"groups": {"default": {}, "search": {key: ["/search"]}}})
    text = str(info.value)
    assert f"ratelimit.groups.search.{key}: removed" in text
    assert "route_groups" in text
    assert "docs/rate-limiting.md#groups" in text
