"""Web Bot Auth: RFC 9421 HTTP Message Signatures (Ed25519) with a `Signature-Agent` header.

A signing bot sends `Signature-Agent: sig1="https://signer.example"` (a Structured Field
dictionary, draft-meunier-web-bot-auth-architecture; the older bare string is still accepted),
a `Signature-Input` naming the covered components (`"signature-agent";key="sig1"` for the
member, `tag="web-bot-auth"`, `keyid` = the key's RFC 7638 JWK thumbprint,
`created`/`expires`), and the `Signature`. The key comes from the agent's directory,
`<origin>/.well-known/http-message-signatures-directory` (a JWKS), fetched with a timeout and
cached with a TTL. A valid signature whose origin the claimed catalogue agent lists in
`signature_agents` marks the request verified (`ctx.notes["web_bot_auth"]`, read by the
verified detector, which still requires the agent to be allowed).

  webbotauth/valid     weight 0: a valid signature (detail: the signer's origin)
  webbotauth/invalid   weight 50: a signature that does not verify, is expired, or names an
                       unknown key: a bot pretending to sign
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from scrapeshield.detector import Found, Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.lease.protocol import UNLIMITED_TERMS, Terms, always_keeps
from scrapeshield.signals import Signal

DIRECTORY_PATH = "/.well-known/http-message-signatures-directory"
DIRECTORY_MEDIA_TYPE = "application/http-message-signatures-directory+json"
MAX_DIRECTORY_BYTES = 64 * 1024
CLOCK_SKEW = 60.0
FETCH_TIMEOUT = 2.0
Fetcher = Callable[[str], Awaitable[bytes]]

# Dictionary members are matched at the start of the header and after each comma only, and no
# pattern crosses a comma, so parsing is linear in the header's length (`finditer` retried them
# at every character: quadratic, seconds for a 64 KiB header).
_MEMBER = re.compile(r"\s*([a-z*][a-z0-9_.*-]*)=(\([^),]*\)(?:;[^,]*)?)\s*(?:,|$)")
_PARAM = re.compile(r';\s*([a-z*][a-z0-9_.*-]*)=("(?:[^"\\;,]|\\.)*"|[^;]*)')
_SIG = re.compile(r"\s*([a-z*][a-z0-9_.*-]*)=:([A-Za-z0-9+/=]*):\s*(?:,|$)")
# A signing bot's Signature-Input and Signature are a few hundred bytes; longer ones are refused
# unread (`webbotauth/invalid`): no signature is worth verifying at any length a client picks.
MAX_SIGNATURE_HEADER = 8 * 1024
# Parsed with http-sf (about 0.6 us a byte for a hostile list of short items), so kept short:
# a real Signature-Agent is one or two members (~40 bytes each), a real covered-components list
# a handful of names (~100 bytes).
MAX_SIGNATURE_AGENT = 512
MAX_COVERED = 256


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are refused: a directory must be served at the origin the catalogue names, not
    wherever that origin points (another host, plain HTTP, or an address inside our network)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


async def url_fetch(url: str) -> bytes:
    """GET a key directory in a worker thread (bounded size); never blocks the event loop."""
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError(f"key directory {url!r} must be https")

    def get() -> bytes:
        accept = f"{DIRECTORY_MEDIA_TYPE}, application/json;q=0.5"
        request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310
        try:
            with _OPENER.open(request, timeout=FETCH_TIMEOUT) as response:
                body: bytes = response.read(MAX_DIRECTORY_BYTES + 1)
        except urllib.error.HTTPError as exc:  # incl. a refused redirect; close its socket
            exc.close()
            raise ValueError(f"key directory answered {exc.code}") from None
        if len(body) > MAX_DIRECTORY_BYTES:
            raise ValueError("key directory too large")
        return body

    return await asyncio.wait_for(asyncio.to_thread(get), FETCH_TIMEOUT + 0.5)


def jwk_thumbprint(x: str) -> str:
    """RFC 7638 thumbprint of an Ed25519 OKP key: the `keyid` Web Bot Auth signs with."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class KeyDirectory:
    """Keys by origin, fetched on demand, cached for `ttl` (failures for a tenth of it)."""

    def __init__(
        self, fetcher: Fetcher | None = None, *, ttl: float = 3600.0, max_origins: int = 256
    ) -> None:
        self.fetcher: Fetcher = fetcher or url_fetch
        self.ttl = ttl
        self.max_origins = max_origins
        self._cache: OrderedDict[str, tuple[float, dict[str, Ed25519PublicKey]]] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[dict[str, Ed25519PublicKey]]] = {}

    async def keys(self, origin: str) -> dict[str, Ed25519PublicKey]:
        cached = self._cache.get(origin)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        task = self._inflight.get(origin)
        if task is None:  # one fetch per origin, however many requests wait for it
            task = asyncio.ensure_future(self._fetch(origin))
            self._inflight[origin] = task
            task.add_done_callback(lambda _: self._inflight.pop(origin, None))
        return await asyncio.shield(task)

    async def _fetch(self, origin: str) -> dict[str, Ed25519PublicKey]:
        now = time.monotonic()
        try:
            keys = _parse_jwks(await self.fetcher(origin.rstrip("/") + DIRECTORY_PATH))
            expiry = now + self.ttl
        except Exception:
            keys, expiry = {}, now + self.ttl / 10
        self._cache[origin] = (expiry, keys)
        self._cache.move_to_end(origin)
        while len(self._cache) > self.max_origins:
            self._cache.popitem(last=False)
        return keys


def _parse_jwks(body: bytes) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in json.loads(body).get("keys", []):
        if isinstance(jwk, dict) and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            x = str(jwk.get("x", ""))
            try:
                keys[jwk_thumbprint(x)] = Ed25519PublicKey.from_public_bytes(_b64url(x))
            except ValueError:  # one malformed key does not void the others
                continue
    return keys


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _component(name: str, facts: Facts) -> str | None:
    if name == "@authority":
        return facts.host
    if name == "@method":
        return facts.method
    if name == "@path":
        return facts.path
    if name == "@query":
        return "?" + facts.query
    if name == "@scheme":
        return facts.scheme
    if name == "@target-uri":
        query = f"?{facts.query}" if facts.query else ""
        return f"{facts.scheme}://{facts.host}{facts.path}{query}"
    if name.startswith("@"):
        return None
    value = facts.headers.get(name)
    return value.strip() if value is not None else None


Component = tuple[str, dict[str, Any]]


def _keyed(name: str, key: str, facts: Facts) -> str | None:
    """RFC 9421 §2.1.2: the `key` member of a dictionary field, serialized (None if absent)."""
    value = facts.headers.get(name)
    if value is None or len(value) > MAX_SIGNATURE_AGENT:
        return None
    try:
        members: Any = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError):
        return None
    if not isinstance(members, dict) or key not in members:
        return None
    serialized: str = http_sf.ser(members[key])
    return serialized


def signature_base(facts: Facts, components: list[Component], params: str) -> str | None:
    """RFC 9421 §2.5 signature base, or None when a covered component is missing (or uses a
    parameter other than `key`, which Web Bot Auth does not need)."""
    lines = []
    for name, parameters in components:
        if set(parameters) - {"key"} or not isinstance(parameters.get("key", ""), str):
            return None
        if "key" in parameters and not name.startswith("@"):
            value = _keyed(name, parameters["key"], facts)
        else:
            value = None if parameters else _component(name, facts)
        if value is None:
            return None
        lines.append(f"{http_sf.ser((name, parameters))}: {value}")
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines)


def covered(inner: str) -> list[Component] | None:
    """The covered components of an inner list `("@authority" "signature-agent";key="a")`."""
    if len(inner) > MAX_COVERED:
        return None
    try:
        parsed: Any = http_sf.parse(inner.encode("latin-1"), tltype="list")
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError):
        return None
    if len(parsed) != 1 or not isinstance(parsed[0][0], list):
        return None
    items = parsed[0][0]
    if not all(isinstance(value, str) for value, _ in items):
        return None
    return [(str(value), dict(params)) for value, params in items]


def _members(pattern: re.Pattern[str], value: str) -> dict[str, str]:
    """`pattern`'s (name, value) pairs matched where dictionary members start: at the start and
    after each comma. A member that does not match is skipped to the next comma."""
    found: dict[str, str] = {}
    pos, size = 0, len(value)
    while pos < size:
        match = pattern.match(value, pos)
        if match is not None and match.end() > pos:
            found[match.group(1)] = match.group(2)
            pos = match.end()
            continue
        comma = value.find(",", pos)
        if comma < 0:
            break
        pos = comma + 1
    return found


def _label(signature_input: str) -> str | None:
    """The label of the `Signature-Input` member tagged `web-bot-auth`."""
    members = _members(_MEMBER, signature_input)
    return next((k for k, v in members.items() if 'tag="web-bot-auth"' in v), None)


def _signature_agent(facts: Facts) -> str:
    """The signer's origin from `Signature-Agent`: the dictionary member keyed to the
    signature's label (draft-meunier-webbotauth-httpsig-protocol: a verifier must not attribute
    a signature to another member), of type `directory` (the default; `jwks_uri` and `cimd`
    members are ignored); or the older bare string, read as that member."""
    value = facts.headers.get("signature-agent", "")
    if len(value) > MAX_SIGNATURE_AGENT:
        return ""
    if value.lstrip().startswith('"'):
        return _unquote(value.split(",")[0]).rstrip("/")
    signature_input = facts.headers.get("signature-input", "")
    label = _label(signature_input) if len(signature_input) <= MAX_SIGNATURE_HEADER else None
    try:
        members: Any = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError):
        return ""
    if label is None or not isinstance(members, dict) or label not in members:
        return ""
    origin, parameters = members[label]
    if str(parameters.get("type", "directory")) != "directory":
        return ""
    return origin.rstrip("/") if isinstance(origin, str) else ""


class WebBotAuthDetector(Immediate):
    name = "webbotauth"
    uses_store = False

    def __init__(
        self,
        classifier: UAClassifier,
        directory: KeyDirectory,
        origins: Iterable[str] | None = None,
    ) -> None:
        self.classifier = classifier
        self.directory = directory
        if origins is None:
            origins = (o for a in load_catalogue().agents for o in a.signature_agents)
        # Only origins the catalogue names are fetched: a client must not make the server
        # fetch URLs of its choosing (SSRF, and a slow directory per request).
        self.origins = frozenset(origins)

    lease_keeps = staticmethod(always_keeps)  # (unsigned: the request alone decides)

    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None:
        """Unsigned requests only: a signature covers per-request components (the query)."""
        headers = facts.headers
        signed = "signature-input" in headers or "signature" in headers
        return None if signed else UNLIMITED_TERMS

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        headers = facts.headers
        if "signature-input" not in headers or "signature" not in headers:
            return ()  # most requests: unsigned, answered at once
        origin = _signature_agent(facts)
        if origin not in self.origins:
            detail = f"signed as {origin[:80]!r}, an origin no catalogue agent names; not checked"
            return (Signal("webbotauth/unknown-agent", 0.0, detail),)
        return self._detect_signed(facts, ctx, origin)

    async def _detect_signed(
        self, facts: Facts, ctx: RequestContext, origin: str
    ) -> Sequence[Signal]:
        problem, components = await self._verify(facts, origin)
        if problem:
            return (Signal("webbotauth/invalid", 50.0, problem),)
        info = self.classifier.classify_noted(facts.user_agent, ctx.notes)
        if info.agent is not None and origin in info.agent.signature_agents:
            ctx.notes["web_bot_auth"] = info.agent.name
            # What the signature vouches for (pay per crawl reads its price headers here).
            ctx.notes["web_bot_auth_covered"] = frozenset(name for name, _ in components)
        return (Signal("webbotauth/valid", 0.0, f"signed by {origin}"),)

    async def _verify(self, facts: Facts, origin: str) -> tuple[str, list[Component]]:
        """The problem with the signature ("" when it verifies) and what it covers."""
        components: list[Component] = []
        problem = await self._check(facts, origin, components)
        return problem, components

    async def _check(self, facts: Facts, origin: str, components: list[Component]) -> str:
        signature_input, signature = facts.headers["signature-input"], facts.headers["signature"]
        if max(len(signature_input), len(signature)) > MAX_SIGNATURE_HEADER:
            return f"Signature-Input or Signature over {MAX_SIGNATURE_HEADER} characters"
        members = _members(_MEMBER, signature_input)
        chosen = next((k for k, v in members.items() if 'tag="web-bot-auth"' in v), None)
        if chosen is None:
            return 'no Signature-Input with tag="web-bot-auth"'
        params = members[chosen]
        inner = params[: params.index(")") + 1]
        values = {k: _unquote(v) for k, v in _PARAM.findall(params[len(inner) :])}
        if values.get("alg", "ed25519") != "ed25519":
            return f"unsupported alg {values.get('alg')!r}"
        now = time.time()
        try:
            created = float(values.get("created", "nan"))
            expires = float(values.get("expires", "inf"))
        except ValueError:
            return "malformed created/expires"
        if not created <= now + CLOCK_SKEW or expires < now - CLOCK_SKEW:
            return "signature expired or not yet valid"
        signatures = _members(_SIG, signature)
        if chosen not in signatures:
            return f"no Signature for label {chosen!r}"
        found = covered(inner)
        if found is None:
            return f"malformed covered components (or over {MAX_COVERED} characters)"
        components += found
        legacy = facts.headers.get("signature-agent", "").lstrip().startswith('"')
        agent: Component = ("signature-agent", {} if legacy else {"key": chosen})
        if agent not in found:  # the member that names the key directory must be signed
            return f"the signature does not cover its Signature-Agent member ({chosen!r})"
        base = signature_base(facts, found, params)
        if base is None:
            return "a covered component is missing from the request"
        key = (await self.directory.keys(origin)).get(values.get("keyid", ""))
        if key is None:
            return f"keyid not in {origin}'s key directory"
        try:
            key.verify(base64.b64decode(signatures[chosen]), base.encode("utf-8"))
        except (InvalidSignature, ValueError):
            return "signature does not verify"
        return ""
