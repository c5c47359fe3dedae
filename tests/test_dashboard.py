"""The dashboard over a real server, on the memory store and a real Redis, on both loops:
never reachable without authentication; unban is a POST with a CSRF token bound to the session."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from scrapeshield import ConfigurationError, Settings, Shield
from scrapeshield.bans import ban_key
from scrapeshield.behaviour.trap import trap_key
from scrapeshield.dashboard.app import dashboard_app
from scrapeshield.store import RedisStore
from tests.operators_app import (
    MOUNT,
    STORES,
    TOKEN,
    bearer,
    flag,
    operators_app,
    store_settings,
)
from tests.servers import LOOPS, RedisServer, free_port, serve

BANNED = "203.0.113.7"
PAGES = ["/", "/client?key=203.0.113.7", "/bans", "/tail", "/tail.json"]
HTML = {"Accept": "text/html"}


def settings(**values: Any) -> Settings:
    return Settings(dashboard={"tokens": [TOKEN]}, **values)


def ban(shield: Shield, loop_runner: Any = asyncio.run) -> None:
    """Ban BANNED and flag it by a trap through the store (before the server starts)."""

    async def go() -> None:
        await shield.ban(BANNED, 600, reason="test")
        await flag(shield.store, BANNED, "/trap", 600)
        await shield.store.aclose()  # this loop's connections; the server opens its own

    loop_runner(go())


async def holds(shield: Shield) -> tuple[bool, bool]:
    ban_raw = await shield.store.get(ban_key(BANNED))
    trap = await shield.store.get(trap_key(BANNED))
    await shield.store.aclose()
    return ban_raw is not None, trap is not None


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def login(client: httpx.Client) -> None:
    response = client.post(f"{MOUNT}/login", data={"token": TOKEN})
    assert response.status_code == 303
    assert "__ss_dash" in client.cookies


def test_no_authentication_configured_is_not_mountable() -> None:
    with pytest.raises(ConfigurationError, match=r"dashboard\.tokens"):
        dashboard_app(Shield(Settings()))
    with pytest.raises(ConfigurationError, match="16 characters"):
        Settings(dashboard={"tokens": ["short"]})


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("loop", LOOPS)
def test_nothing_is_reachable_without_authentication(
    loop: str, kind: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    app, shield = operators_app(settings(**store_settings(kind, redis_server, redis_prefix)))
    ban(shield)
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        for page in PAGES:
            assert client.get(MOUNT + page).status_code == 401, page
            forged = {"Authorization": "Bearer nope"}
            assert client.get(MOUNT + page, headers=forged).status_code == 401
            client.cookies.set("__ss_dash", "forged.cookie")
            assert client.get(MOUNT + page).status_code == 401, page
            client.cookies.clear()
            redirect = client.get(MOUNT + page, headers=HTML)  # a browser: the sign-in page
            assert redirect.status_code == 303
            assert redirect.headers["location"] == f"{MOUNT}/login"
        refused = client.post(f"{MOUNT}/unban", data={"key": BANNED, "csrf": "x"})
        assert refused.status_code == 401
        wrong = client.post(f"{MOUNT}/login", data={"token": TOKEN[:-1] + "x"})
        assert wrong.status_code == 403
        assert "__ss_dash" not in client.cookies
        sign_in = client.get(f"{MOUNT}/login")
        assert sign_in.status_code == 200
        csp = sign_in.headers["content-security-policy"]
        assert "unsafe-inline" not in csp
        assert "script-src 'self'" in csp
        assert "<script>" not in sign_in.text  # no inline script
        assert " style=" not in sign_in.text
    assert asyncio.run(holds(shield)) == (True, True)


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("loop", LOOPS)
def test_unban_needs_the_sessions_own_csrf_token(
    loop: str, kind: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    app, shield = operators_app(settings(**store_settings(kind, redis_server, redis_prefix)))
    ban(shield)
    with (
        serve(app, loop=loop) as server,
        httpx.Client(base_url=server.url) as client,
        httpx.Client(base_url=server.url) as other,
    ):
        login(client)
        login(other)
        bans = client.get(f"{MOUNT}/bans")
        assert bans.status_code == 200
        assert f'data-client="{BANNED}"' in bans.text
        assert re.search(r'id="ban-count">1<', bans.text)
        assert re.search(r'id="trap-count">1<', bans.text)
        token = csrf_of(bans.text)
        foreign = csrf_of(other.get(f"{MOUNT}/bans").text)
        for bad in ("", "garbage", foreign):
            response = client.post(f"{MOUNT}/unban", data={"key": BANNED, "csrf": bad})
            assert response.status_code == 403, bad
        assert client.get(f"{MOUNT}/client", params={"key": BANNED}).text.count("Unban") == 1
        not_a_client = client.post(f"{MOUNT}/unban", data={"key": "10.0.0.0/8", "csrf": token})
        assert not_a_client.status_code == 400
        lifted = client.post(f"{MOUNT}/unban", data={"key": BANNED, "csrf": token})
        assert lifted.status_code == 303
        notice = client.get(lifted.headers["location"])
        assert f"{BANNED}: ban and trap flag lifted" in notice.text
        assert re.search(r'id="ban-count">0<', notice.text)
        logout = client.post(f"{MOUNT}/logout", data={"csrf": token})
        assert logout.status_code == 303
        assert client.get(f"{MOUNT}/bans").status_code == 401
    assert asyncio.run(holds(shield)) == (False, False)


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("loop", LOOPS)
def test_a_bearer_token_unbans_without_csrf(
    loop: str, kind: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    app, shield = operators_app(settings(**store_settings(kind, redis_server, redis_prefix)))
    ban(shield)
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        response = client.post(f"{MOUNT}/unban", data={"key": BANNED}, headers=bearer())
        assert response.status_code == 200
        assert response.json() == {"client_key": BANNED, "ban": True, "trap": True}
        events = client.get(f"{MOUNT}/tail.json", headers=bearer()).json()["events"]
        assert isinstance(events, list)
    assert asyncio.run(holds(shield)) == (False, False)


@pytest.mark.parametrize("loop", LOOPS)
def test_the_operators_callable_decides_and_csrf_still_applies(loop: str) -> None:
    def authorize(request: Request) -> bool:
        return request.headers.get("x-operator") == "yes"

    app, _ = operators_app(Settings(), authorize=authorize)
    operator = {"X-Operator": "yes"}
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        assert client.get(f"{MOUNT}/bans").status_code == 401
        assert client.get(f"{MOUNT}/login").status_code == 404  # no tokens: no sign-in page
        assert client.post(f"{MOUNT}/unban", data={"key": BANNED}).status_code == 401
        page = client.get(f"{MOUNT}/bans", headers=operator)
        assert page.status_code == 200
        token = csrf_of(page.text)
        assert client.get(f"{MOUNT}/bans").status_code == 401  # the cookie alone is not access
        refused = client.post(f"{MOUNT}/unban", data={"key": BANNED}, headers=operator)
        assert refused.status_code == 403
        done = client.post(f"{MOUNT}/unban", data={"key": BANNED, "csrf": token}, headers=operator)
        assert done.status_code == 303


@pytest.mark.parametrize("loop", LOOPS)
def test_an_unreachable_store_is_a_page_not_a_traceback(loop: str) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app, shield = operators_app(settings(store_url=dead, store_timeout=0.2))
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        for page in ("/", "/bans", "/tail", "/client?key=1.2.3.4"):
            response = client.get(MOUNT + page, headers=bearer())
            assert response.status_code == 503, page
            assert "The store is unavailable" in response.text
        assert client.get(f"{MOUNT}/tail.json", headers=bearer()).status_code == 503
        # The dashboard read through a store of its own: the site's breaker never saw it.
        assert isinstance(shield.store, RedisStore)
        assert shield.store.breaker.failures == 0
