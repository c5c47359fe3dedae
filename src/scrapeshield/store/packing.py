"""The store's pipelines packed by hiredis in C, on redis-py's own connections.

redis-py's asyncio connection hands hiredis every argument through a Python encoder, one call
per argument: ~0.45 µs each, and a page view with every defence sends ~50 arguments (its
scripts' keys and arguments). hiredis packs the same arguments (str as UTF-8, int, float as
`repr`, bytes) in C, ~0.1 µs each (~1,200-1,500 instructions: docs/log/store.md): measured in
process with 32 concurrent requests, the Redis store's client CPU fell by ~26 µs a request.
Only the connections of the store's own pool pack this way, and only pipelines
(`pack_commands`); anything hiredis does not take (a memoryview, a command name with a space,
as in `CONFIG GET`) goes to redis-py's packing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hiredis
from redis.asyncio.connection import AbstractConnection


class _PackedInC:
    """Mixin for a redis-py connection class: pipelines packed by `hiredis.pack_command`."""

    def pack_commands(self, commands: Iterable[Iterable[Any]]) -> list[bytes]:
        rows: list[Any] = [tuple(args) for args in commands]
        try:
            if not any(" " in str(args[0]) for args in rows):
                return [b"".join([hiredis.pack_command(args) for args in rows])]
        except TypeError:  # an argument hiredis does not pack (a memoryview)
            pass
        packed: list[bytes] = super().pack_commands(rows)  # type: ignore[misc]
        return packed


_CLASSES: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def packed_in_c(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """`connection_class` (plain, TLS, Unix socket, Sentinel-managed) packing pipelines in C;
    one subclass per class, made once."""
    if issubclass(connection_class, _PackedInC):
        return connection_class
    made = _CLASSES.get(connection_class)
    if made is None:
        name = "PackedInC" + connection_class.__name__
        made = _CLASSES[connection_class] = type(name, (_PackedInC, connection_class), {})
    return made
