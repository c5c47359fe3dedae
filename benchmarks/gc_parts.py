"""Which part of a running app holds the objects Python's collector tracks: per-client state.

`Parts.before()` notes every tracked object once the app has started; `Parts.after(root)` walks
the object graph from `root` (the middleware) breadth first and gives each tracked object made
since to the attribute path that first reaches it, cut where the walk leaves the start-up
objects: `shield.limiter._data[]` holds its per-client lists, and so on. What no path from
`root` reaches (requests in flight, the server's own) is counted by type apart. Why: a full
collection walks every tracked object, so a part that keeps a few tracked containers per client
costs every request of a busy site (docs/store.md, "Garbage collection").

`after(root, settled=True)` first collects until the count of tracked objects stops falling:
CPython untracks a plain tuple of untracked items when a collection examines it, but a
collection examines a parent before the children only it holds (they are moved behind it when
found reachable), so a nested plain tuple loses one level a collection. What one collection
leaves is partly young state; what is left once settled is kept tracked for good.
"""

from __future__ import annotations

import gc
from collections import Counter, deque
from typing import Any

__all__ = ["Parts"]


def _named(obj: Any) -> list[tuple[str, Any]]:
    """An object's referents with a name each: attributes by name, a container's items as []."""
    if isinstance(obj, dict):
        return [("[]", value) for pair in obj.items() for value in pair]
    if isinstance(obj, list | tuple | set | frozenset | deque):  # a component: by its class
        return [(f"[{_kind(item)}]", item) for item in obj]
    named: list[tuple[str, Any]] = []
    if hasattr(obj, "__dict__") and isinstance(vars(obj), dict):
        named += [(f".{name}", value) for name, value in vars(obj).items()]
    for slot in getattr(type(obj), "__slots__", ()):
        if isinstance(slot, str) and hasattr(obj, slot):
            named.append((f".{slot}", getattr(obj, slot)))
    seen = {id(value) for _, value in named}
    named += [("()", other) for other in gc.get_referents(obj) if id(other) not in seen]
    return named


def _kind(item: Any) -> str:
    kind = type(item)
    module = vars(kind).get("__module__")  # (a class of classes may hold a descriptor there)
    return kind.__name__ if isinstance(module, str) and module.startswith("scrapeshield") else ""


class Parts:
    """Tracked objects made after `before()`, by the part of `root` that holds them."""

    def __init__(self) -> None:
        self._old: set[int] = set()

    def before(self) -> None:
        gc.collect()
        self._old = {id(obj) for obj in gc.get_objects()}

    def after(
        self, root: Any, name: str = "shield", *, settled: bool = False
    ) -> tuple[Counter[str], Counter[str], int]:
        """(objects by part and type, unreached objects by type, tracked objects in all), after
        one full collection, or after as many as untrack anything (`settled`, at most 16)."""
        gc.collect()
        for _ in range(15 if settled else 0):
            count = len(gc.get_objects())
            gc.collect()
            if len(gc.get_objects()) >= count:
                break
        new = {id(obj): obj for obj in gc.get_objects() if id(obj) not in self._old}
        parts: Counter[str] = Counter()
        seen = {id(root)}
        queue: deque[tuple[Any, str, bool]] = deque([(root, name, False)])
        while queue:
            obj, path, inside = queue.popleft()
            for step, other in _named(obj):
                if id(other) in seen or not gc.is_tracked(other) or isinstance(other, type):
                    continue
                seen.add(id(other))
                fresh = id(other) in new
                where = path if inside else path + step
                if fresh:
                    parts[f"{where}: {type(other).__name__}"] += 1
                queue.append((other, where, fresh))
        unreached = Counter(type(obj).__name__ for key, obj in new.items() if key not in seen)
        now = gc.get_objects()
        # what the walk itself made (an instance's __dict__, made when first read) is not the
        # app's: a later walk counts it with the start-up objects
        self._old.update(id(obj) for obj in now if id(obj) not in new)
        return parts, unreached, len(now)
