"""The shield skips endpoints by path when each names its own, and notices a changed list."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from scrapeshield import Settings, Shield
from scrapeshield.facts import Facts
from scrapeshield.shield import synthetic_scope


class Named:
    def __init__(self, path: str) -> None:
        self.path = path

    def matches(self, facts: Facts) -> bool:
        return facts.path == self.path

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class Unnamed:
    """Matches by something other than one path: it must be asked about every request."""

    def matches(self, facts: Facts) -> bool:
        return facts.path.endswith(".well-known")

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def found(shield: Shield, path: str) -> object:
    return shield.endpoint_for(shield.facts(synthetic_scope(path=path)))


def test_endpoints_are_found_by_path_and_changes_to_the_list_are_seen() -> None:
    shield = Shield(Settings(challenge={"enabled": False}))
    assert type(found(shield, "/robots.txt")).__name__ in {"StaticDocument", "MergedRobots"}
    assert found(shield, "/artworks/1") is None
    extra = Named("/extra")
    assert found(shield, "/extra") is None
    shield.endpoints.append(extra)  # appended after the index was built
    assert found(shield, "/extra") is extra
    other = Named("/other")
    shield.endpoints[-1] = other  # replaced in place, same length
    assert found(shield, "/extra") is None
    assert found(shield, "/other") is other
    unnamed = Unnamed()
    shield.endpoints = [unnamed]  # replaced: only paths named by every endpoint are skipped
    assert found(shield, "/a/.well-known") is unnamed
    assert found(shield, "/robots.txt") is None
