"""The dashboard's pages: each checks access first, reads through `DashboardData`, and renders
a template (or JSON for the live tail and a bearer's unban)."""

from __future__ import annotations

import time
import urllib.parse
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from scrapeshield.dashboard.auth import Access, Auth
from scrapeshield.dashboard.charts import ORDER, timeline_chart
from scrapeshield.dashboard.data import BANS_SHOWN, WINDOWS, DashboardData, reading
from scrapeshield.errors import StoreError
from scrapeshield.shield import Shield
from scrapeshield.support import TargetError

STATIC = {
    "dashboard.css": "text/css",
    "dashboard.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}
MAX_FORM = 4096


class Views:
    def __init__(self, shield: Shield, auth: Auth, templates: Any) -> None:
        self.shield = shield
        self.auth = auth
        self.templates = templates
        self.data = DashboardData(shield.store, shield.settings)  # the site's own store state
        self.config = shield.settings.dashboard

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def _base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def _access(self, request: Request) -> Access | Response:
        access = await self.auth.check(request)
        if access is not None:
            return access
        wants_html = "text/html" in request.headers.get("accept", "")
        if request.method == "GET" and wants_html and self.auth.has_tokens:
            return RedirectResponse(f"{self._base(request)}/login", 303)
        return PlainTextResponse(
            "authentication required", 401, {"WWW-Authenticate": 'Bearer realm="scrapeshield"'}
        )

    def _page(
        self,
        request: Request,
        access: Access | None,
        template: str,
        context: dict[str, Any],
        status: int = 200,
    ) -> Response:
        base = self._base(request)
        csrf = self.auth.csrf_token(access.session) if access and access.session else ""
        response: Response = self.templates.TemplateResponse(
            request,
            template,
            {"base": base, "csrf": csrf, "signed_in": access is not None, **context},
            status_code=status,
        )
        if access is not None and access.new_cookie is not None:
            self._set_cookie(request, response, access.new_cookie)
        return response

    def _set_cookie(self, request: Request, response: Response, value: str) -> None:
        response.set_cookie(
            self.config.cookie_name,
            value,
            max_age=int(self.config.session_ttl),
            path=self._base(request) + "/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )

    def _unavailable(self, request: Request, access: Access, exc: StoreError) -> Response:
        return self._page(request, access, "error.html", {"error": str(exc)}, 503)

    async def _posted(self, request: Request) -> tuple[Access, dict[str, str]] | Response:
        """A state-changing POST's form, once the session and its CSRF token are checked."""
        access = await self._access(request)
        if not isinstance(access, Access):
            return access
        form = await self._form(request)
        if not self.auth.csrf_ok(access, form.get("csrf", "")):
            return PlainTextResponse("invalid or missing CSRF token; reload the page", 403)
        return access, form

    async def _form(self, request: Request) -> dict[str, str]:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM:
                return {}
        parsed = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        return {key: values[0] for key, values in parsed.items()}

    # -- pages ------------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        access = await self._access(request)
        if not isinstance(access, Access):
            return access
        window = request.query_params.get("window", "24h")
        try:
            async with reading(self.shield.store, self.shield.settings) as data:
                overview = await data.overview(window)
        except StoreError as exc:
            return self._unavailable(request, access, exc)
        chart = timeline_chart(overview.timeline, overview.end - overview.start)
        actions = [a for a in ORDER if a in overview.by_action]
        actions += sorted(set(overview.by_action) - set(ORDER))
        store, breaker = self.data.store_state()
        context = {
            "o": overview,
            "chart": chart,
            "actions": actions,
            "windows": list(WINDOWS),
            "store": store,
            "breaker": breaker,
            "metrics": self.shield.metrics is not None,
        }
        return self._page(request, access, "overview.html", context)

    async def client(self, request: Request) -> Response:
        access = await self._access(request)
        if not isinstance(access, Access):
            return access
        key = request.query_params.get("key", "")[:100].strip()
        try:
            async with reading(self.shield.store, self.shield.settings) as data:
                view = await data.client(key)
        except StoreError as exc:
            return self._unavailable(request, access, exc)
        return self._page(request, access, "client.html", {"c": view, "now": time.time()})

    async def bans(self, request: Request) -> Response:
        access = await self._access(request)
        if not isinstance(access, Access):
            return access
        try:
            async with reading(self.shield.store, self.shield.settings) as data:
                bans, traps = await data.holds()
                total = await data.ban_count() if len(bans) >= BANS_SHOWN else len(bans)
                flagged = await data.trap_count() if len(traps) >= BANS_SHOWN else len(traps)
        except StoreError as exc:
            return self._unavailable(request, access, exc)
        notice = request.query_params.get("notice", "")[:200]
        context = {"bans": bans, "ban_total": total, "traps": traps, "trap_total": flagged}
        context["notice"] = notice
        return self._page(request, access, "bans.html", context)

    async def unban(self, request: Request) -> Response:
        checked = await self._posted(request)
        if isinstance(checked, Response):
            return checked
        access, form = checked
        try:
            key = self.data.client_key(form.get("key", ""))
        except TargetError as exc:
            return PlainTextResponse(str(exc), 400)
        try:
            async with reading(self.shield.store, self.shield.settings) as data:
                lifted = await data.lift(key, forget=form.get("forget") == "1")
        except StoreError as exc:
            return self._unavailable(request, access, exc)
        done = [n for n, f in (("ban", lifted.ban), ("trap flag", lifted.trap)) if f]
        notice = f"{key}: {' and '.join(done)} lifted" if done else f"{key}: nothing to lift"
        if lifted.escalation:
            notice += "; escalation history forgotten"
        if access.how == "bearer":
            return JSONResponse({"client_key": key, "ban": lifted.ban, "trap": lifted.trap})
        query = urllib.parse.urlencode({"notice": notice})
        return RedirectResponse(f"{self._base(request)}/bans?{query}", 303)

    async def tail(self, request: Request) -> Response:
        access = await self._access(request)
        if not isinstance(access, Access):
            return access
        try:
            async with reading(self.shield.store, self.shield.settings) as data:
                events = await data.tail(None, limit=50)
        except StoreError as exc:
            return self._unavailable(request, access, exc)
        context = {
            "events": list(reversed(events)),
            "last": events[-1].id if events else "",
            "interval": self.config.tail_interval,
        }
        return self._page(request, access, "tail.html", context)

    async def tail_json(self, request: Request) -> Response:
        access = await self._access(request)
        if not isinstance(access, Access):
            return access
        after = request.query_params.get("after", "")[:40] or None
        try:
            async with reading(self.shield.store, self.shield.settings) as data:
                events = await data.tail(after)
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, 503)
        return JSONResponse({"events": [{"id": e.id, **e.data} for e in events]})

    async def metrics(self, request: Request) -> Response:
        access = await self._access(request)
        if not isinstance(access, Access):
            return access
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        assert self.shield.metrics is not None  # the route exists only then
        return Response(
            generate_latest(self.shield.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    async def login(self, request: Request) -> Response:
        base = self._base(request)
        if not self.auth.has_tokens:
            return PlainTextResponse("this dashboard signs in through the site itself", 404)
        if request.method == "GET":
            return self._page(request, None, "login.html", {"failed": False})
        form = await self._form(request)
        if not self.auth.token_ok(form.get("token", "").strip()):
            return self._page(request, None, "login.html", {"failed": True}, 403)
        _, cookie = self.auth.new_session(login=True)
        response = RedirectResponse(f"{base}/", 303)
        self._set_cookie(request, response, cookie)
        return response

    async def logout(self, request: Request) -> Response:
        checked = await self._posted(request)
        if isinstance(checked, Response):
            return checked
        response = RedirectResponse(f"{self._base(request)}/login", 303)
        response.delete_cookie(self.config.cookie_name, path=self._base(request) + "/")
        return response

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return PlainTextResponse("not found", 404)
        static = resources.files("scrapeshield.dashboard").joinpath("static")
        text = static.joinpath(name).read_text("utf-8")
        return Response(text, media_type=STATIC[name])
