"""Key names by subject: where a key lands on Redis Cluster is decided here, and only here.

Every per-subject key names its subject (a client key, a visitor id, a network, a header
fingerprint) through `subject_key`, which writes it as a Redis Cluster hash tag: Cluster hashes
only the text between a key's first `{` and the next `}`. All of one subject's keys share a slot,
so one script can read and write them together, while different subjects spread over every
primary. On one Redis server (and in memory) the braces are only part of the name.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

BAN_PREFIX = "ban:"
"""Bans: `ban:{<client key>}`. Here, not in `scrapeshield.bans`, because the stores keep bans
in a table of their own and `bans` imports the stores."""


BAN_INDEX = "bans:by-expiry"
"""The index of active bans on Redis: a sorted set of client keys scored by when their ban ends,
so listing bans reads it instead of scanning the keyspace. One key, so one slot on Cluster: it
is written only when a ban is written or lifted, never per request. Not under `ban:` (the memory
store keeps those in its bans' table, which is its own index)."""


TRAP_PREFIX = "trap:"
"""Trap flags: `trap:{<client key>}`, the trap path as value, for `flag_ttl`. Here for the same
reason as `BAN_PREFIX`: the memory store keeps them in a table of their own (their index)."""


TRAP_INDEX = "traps:by-expiry"
"""The index of trap flags on Redis, as `BAN_INDEX` is of bans: client keys scored by when their
flag ends. One key, one Cluster slot: written only on a trap hit (a flag set) and on lifting a
flag, never per request."""


def ban_key(client_key: str) -> str:
    """`ban:{<client key>}`: tagged by its client, so the rate limiter's script (which reads
    the ban with the client's counters) finds it in the client's Cluster slot."""
    return subject_key(BAN_PREFIX, client_key)


def tag(subject: str) -> str:
    """`{subject}`; a subject holding a brace (which would end the tag early) is written as a
    digest instead, so two subjects never share a name."""
    if "{" in subject or "}" in subject:
        digest = hashlib.sha256(subject.encode("utf-8", "replace")).hexdigest()[:32]
        subject = "b-" + digest
    return "{" + subject + "}"


def subject_key(name: str, subject: str, rest: str = "") -> str:
    """`<name>{<subject>}<rest>`: `ban:{203.0.113.5}`, `rl:client:page:{203.0.113.5}:60/10s:3`."""
    return f"{name}{tag(subject)}{rest}"


def subject_of(key: str, name: str) -> str:
    """The subject of a key `subject_key(name, subject, "")` made (its braces removed)."""
    rest = key.removeprefix(name)
    return rest[1:-1] if rest.startswith("{") and rest.endswith("}") else rest


def tag_of(key: str) -> str:
    """The text Cluster hashes: the first non-empty `{...}`, else the whole key."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def by_tag(keys: Sequence[str]) -> list[list[int]]:
    """The positions of `keys` grouped by hash tag (first seen first): one group per slot."""
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(tag_of(key), []).append(i)
    return list(groups.values())


SLOTS = 16384
"""Redis Cluster's hash slots (`CRC16(tag) mod 16384`)."""


@functools.lru_cache(maxsize=8)
def spread_tags(count: int) -> tuple[str, ...]:
    """`count` hash tags, the i-th hashing into the i-th of `count` equal runs of slots.

    Clusters give each primary runs of consecutive slots (redis-cli: one run each, of equal
    size), so tags spread evenly over the slot space land on every primary in proportion to
    its slots, where `count` arbitrary names could crowd a few. Deterministic: every process
    computes the same tags (`redis.crc.key_slot`, the client's own CRC16)."""
    from redis.crc import key_slot  # here: importing redis-py costs ~0.1 s, and the memory
    # store and the operators' commands use the keys alone

    if not 1 <= count <= SLOTS:
        raise ValueError(f"between 1 and {SLOTS} tags, not {count}")
    tags = []
    for i in range(count):
        low, high = i * SLOTS // count, (i + 1) * SLOTS // count
        n = 0
        while not low <= key_slot(f"s{i}.{n}".encode()) < high:
            n += 1
        tags.append(f"s{i}.{n}")
    return tuple(tags)
