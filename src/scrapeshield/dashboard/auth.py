"""Who may open the dashboard: a bearer token (scripts, Prometheus), a session cookie got by
logging in with a token, or the operator's own `authorize(request)` callable. Tokens are
compared in constant time (digests of equal length); the session and CSRF tokens are signed
(`challenge.tokens.Signer`), a CSRF token bound to its session's id.

With no token and no callable the dashboard cannot be built: it is never reachable without
authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request

from scrapeshield.challenge.tokens import Signer, TokenError
from scrapeshield.dashboard.settings import DashboardSettings
from scrapeshield.errors import ConfigurationError

logger = logging.getLogger("scrapeshield")

Authorize = Callable[[Request], bool | Awaitable[bool]]
SESSION, CSRF = "dash-session", "dash-csrf"
NO_AUTH = (
    "dashboard.tokens (SCRAPESHIELD_DASHBOARD__TOKENS): the dashboard needs authentication: "
    "set at least one token (python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
    "or pass authorize=<callable> to dashboard_app"
)
_DERIVE = b"scrapeshield dashboard sessions"


@dataclass(frozen=True, slots=True)
class Access:
    """An authenticated request: how, and its session id (None for a bearer token, which
    needs no CSRF token: a browser never sends it by itself)."""

    how: str  # "bearer", "session" or "operator"
    session: str | None
    new_cookie: str | None = None  # a session cookie to set (operator access, first visit)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "replace")).digest()


class Auth:
    def __init__(self, settings: DashboardSettings, authorize: Authorize | None) -> None:
        tokens = [t.get_secret_value() for t in settings.tokens]
        if not tokens and authorize is None:
            raise ConfigurationError([NO_AUTH])
        self.settings = settings
        self.authorize = authorize
        self._digests = [_digest(t) for t in tokens]
        keys = [k.get_secret_value().encode() for k in settings.secret_keys]
        if not keys:
            keys = [hmac.new(t.encode(), _DERIVE, hashlib.sha256).digest() for t in tokens]
        if not keys:
            keys = [secrets.token_bytes(32)]
            logger.warning(
                "dashboard.secret_keys is not set: sessions and CSRF tokens are signed with a "
                "random key of this process (with several workers a form from one is refused "
                "by the others); set SCRAPESHIELD_DASHBOARD__SECRET_KEYS."
            )
        self.signer = Signer(keys)

    @property
    def has_tokens(self) -> bool:
        return bool(self._digests)

    def token_ok(self, given: str) -> bool:
        """Whether `given` is one of the tokens; every token is compared, in constant time."""
        if not given or len(given) > 1024:
            return False
        wanted = _digest(given)
        found = False
        for digest in self._digests:
            found |= hmac.compare_digest(wanted, digest)
        return found

    def new_session(self, *, login: bool) -> tuple[str, str]:
        """A fresh session id and its signed cookie value. A login session (a token was
        given) grants access by itself; an operator session only carries the id CSRF tokens
        are bound to, and `authorize` is asked on every request."""
        sid = secrets.token_urlsafe(16)
        expires = round(time.time() + self.settings.session_ttl)
        kind = "login" if login else "operator"
        return sid, self.signer.sign(SESSION, {"s": sid, "k": kind, "exp": expires})

    def session_of(self, request: Request) -> tuple[str, bool] | None:
        """(session id, is a login session) from the cookie, or None."""
        cookie = request.cookies.get(self.settings.cookie_name, "")
        try:
            payload = self.signer.verify(SESSION, cookie, binding="").payload
        except TokenError:
            return None
        sid = payload.get("s")
        if not isinstance(sid, str) or not sid:
            return None
        return sid, payload.get("k") == "login"

    def csrf_token(self, session: str) -> str:
        expires = round(time.time() + self.settings.session_ttl)
        return self.signer.sign(CSRF, {"b": session, "exp": expires})

    def csrf_ok(self, access: Access, token: str) -> bool:
        """A bearer request needs none; a browser's must carry its own session's token."""
        if access.session is None:
            return access.how == "bearer"
        try:
            self.signer.verify(CSRF, token, binding=access.session)
        except TokenError:
            return False
        return True

    async def check(self, request: Request) -> Access | None:
        """The request's access, or None (then: log in, or 401)."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self.token_ok(value.strip()):
            return Access("bearer", None)
        session = self.session_of(request)
        if session is not None and session[1] and self.has_tokens:
            return Access("session", session[0])
        if self.authorize is None:
            return None
        allowed = self.authorize(request)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        if allowed is not True:
            return None
        if session is not None:
            return Access("operator", session[0])
        sid, cookie = self.new_session(login=False)
        return Access("operator", sid, cookie)
