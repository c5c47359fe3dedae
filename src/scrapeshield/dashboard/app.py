"""The operators' dashboard: a Starlette app to mount, never reachable without authentication.

    shield = Shield(settings)
    app.add_middleware(ScrapeShield, shield=shield)
    app.mount("/_scrapeshield", dashboard_app(shield))

Pages: blocks over time, top rules and clients (`/`), a client's drill-down (`/client?key=`),
current bans and trap flags with unban (`/bans`, POST `/unban` with a CSRF token), a live tail
(`/tail`, polling `/tail.json`), and the Prometheus metrics (`/metrics`) when they are on.
Server-rendered (Jinja2, the `dashboard` extra); every response carries a CSP without
'unsafe-inline', and `no-store`.
"""

from __future__ import annotations

import math
import time

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrapeshield.dashboard.auth import Auth, Authorize
from scrapeshield.dashboard.views import Views
from scrapeshield.errors import ConfigurationError
from scrapeshield.shield import Shield

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]
MISSING_EXTRA = (
    "dashboard: needs the dashboard extra (Jinja2), which is not installed: "
    "pip install 'scrapeshield[dashboard]'"
)


def dashboard_app(shield: Shield, *, authorize: Authorize | None = None) -> ASGIApp:
    """The dashboard over `shield`'s store and settings (`[dashboard]`), to mount anywhere.
    `authorize(request)` (sync or async, True to allow) admits the operator's own users;
    without it and without `dashboard.tokens`, `ConfigurationError`."""
    auth = Auth(shield.settings.dashboard, authorize)
    try:
        import jinja2
    except ImportError:
        raise ConfigurationError([MISSING_EXTRA]) from None
    from starlette.templating import Jinja2Templates

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scrapeshield.dashboard", "templates"),
        autoescape=True,
    )
    env.filters["ago"] = _duration
    env.filters["utc"] = _utc
    views = Views(shield, auth, Jinja2Templates(env=env))
    routes = [
        Route("/", views.overview),
        Route("/client", views.client),
        Route("/bans", views.bans),
        Route("/unban", views.unban, methods=["POST"]),
        Route("/tail", views.tail),
        Route("/tail.json", views.tail_json),
        Route("/login", views.login, methods=["GET", "POST"]),
        Route("/logout", views.logout, methods=["POST"]),
        Route("/static/{name}", views.static),
    ]
    if shield.metrics is not None:
        routes.append(Route("/metrics", views.metrics))
    return _secured(Starlette(routes=routes))


def _secured(app: ASGIApp) -> ASGIApp:
    async def secured(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS]
            await send(message)

        await app(scope, receive, send_secured if scope["type"] == "http" else send)

    return secured


def _duration(seconds: float | None) -> str:
    """`1h 05m`, `4m 10s`, `12s`: a remaining time or an age."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _utc(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))
