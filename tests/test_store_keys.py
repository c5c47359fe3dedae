"""Key names by subject (`scrapeshield.store.keys`): the Cluster hash tag is the subject."""

from __future__ import annotations

from scrapeshield.bans import BanList, ban_key
from scrapeshield.store import MemoryStore
from scrapeshield.store.keys import by_tag, subject_key, subject_of, tag, tag_of


def test_a_key_names_its_subject_as_its_hash_tag() -> None:
    key = subject_key("rl:client:page:", "203.0.113.5", ":60/10s:3")
    assert key == "rl:client:page:{203.0.113.5}:60/10s:3"
    assert tag_of(key) == "203.0.113.5"
    assert tag_of("scrapeshield:" + key) == "203.0.113.5"  # a prefix without braces: no effect
    assert tag_of("events") == "events"  # untagged: the whole key
    assert tag_of("a{}b{c}") == "a{}b{c}"  # an empty first tag: Redis hashes the whole key
    assert subject_of(ban_key("2001:db8::/64"), "ban:") == "2001:db8::/64"


def test_a_subject_with_a_brace_cannot_end_its_tag_early_nor_collide() -> None:
    odd, other = tag("user}{x"), tag("user)(x")
    assert odd.count("{") == 1
    assert odd.count("}") == 1
    assert odd != other
    assert odd == tag("user}{x")  # stable


def test_keys_group_by_subject_first_seen_first() -> None:
    keys = [
        subject_key("rl:client:", "a", ":1"),
        subject_key("rl:network:", "n", ":1"),
        subject_key("rl:strikes:", "a"),
        "events",
    ]
    assert by_tag(keys) == [[0, 2], [1], [3]]


async def test_bans_are_found_under_their_tagged_key() -> None:
    store = MemoryStore()
    bans = BanList(store)
    await bans.ban("192.0.2.1", 60, reason="test")
    assert await store.keys("ban:") == ["ban:{192.0.2.1}"]
    assert store.peek_ban("192.0.2.1") is not None
    assert [b.client_key for b in await bans.active()] == ["192.0.2.1"]
