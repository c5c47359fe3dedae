"""Web Bot Auth (RFC 9421 + Signature-Agent, Ed25519) through the pipeline."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from scrapeshield import Settings
from scrapeshield.fingerprint.webbotauth import (
    DIRECTORY_PATH,
    MAX_SIGNATURE_HEADER,
    KeyDirectory,
    WebBotAuthDetector,
    jwk_thumbprint,
)
from scrapeshield.shield import Shield
from scrapeshield.signals import Action
from scrapeshield.store import MemoryStore
from tests.servers import serve

ORIGIN = "https://chatgpt.com"
UA = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT Agent/1.0"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.x = b64url(raw)
        self.keyid = jwk_thumbprint(self.x)

    def jwks(self) -> bytes:
        return json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": self.x}]}).encode()

    def headers(
        self, authority: str, origin: str = ORIGIN, *, expires_in: float = 60.0
    ) -> list[tuple[str, str]]:
        now = int(time.time())
        params = (
            f'("@authority" "signature-agent");created={now};expires={now + int(expires_in)}'
            f';keyid="{self.keyid}";alg="ed25519";nonce="n0";tag="web-bot-auth"'
        )
        agent = f'"{origin}"'
        base = (
            f'"@authority": {authority}\n"signature-agent": {agent}\n"@signature-params": {params}'
        )
        signature = base64.b64encode(self.key.sign(base.encode())).decode()
        return [
            ("signature-agent", agent),
            ("signature-input", f"sig1={params}"),
            ("signature", f"sig1=:{signature}:"),
        ]


def scope(headers: list[tuple[str, str]], host: str = "gallery.example") -> dict[str, Any]:
    raw = [(b"host", host.encode()), (b"user-agent", UA.encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers]
    return {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/",
        "query_string": b"",
        "headers": raw,
        "client": ("198.51.100.30", 1234),
    }


@pytest.fixture
async def shield_for() -> AsyncIterator[Any]:
    made: list[Shield] = []

    def make(signer: Signer | None, **fingerprint: Any) -> Shield:
        shield = Shield(Settings(fingerprint=fingerprint), store=MemoryStore())
        calls: list[str] = []

        async def fetch(url: str) -> bytes:
            calls.append(url)
            if signer is None:
                raise OSError("unreachable")
            return signer.jwks()

        for detector in shield.detectors:
            if isinstance(detector, WebBotAuthDetector):
                detector.directory = KeyDirectory(fetch)
        shield.fetch_calls = calls  # type: ignore[attr-defined]
        made.append(shield)
        return shield

    yield make
    for shield in made:
        await shield.aclose()


async def test_valid_signature_from_an_allowed_agent_verifies_it(shield_for: Any) -> None:
    signer = Signer()
    shield = shield_for(signer, allow_categories=["ai-assistant"])
    for _ in range(3):
        decision = await shield.decide(shield.facts(scope(signer.headers("gallery.example"))))
        assert decision.rule == "verified-bot"
    assert shield.fetch_calls == [ORIGIN + DIRECTORY_PATH]  # cached


async def test_unsigned_claim_of_a_signing_agent_is_spoofed(shield_for: Any) -> None:
    shield = shield_for(Signer(), allow_categories=["ai-assistant"])
    decision = await shield.decide(shield.facts(scope([])))
    assert decision.rule == "spoofed-crawler"


async def test_valid_signature_does_not_admit_a_blocked_category(shield_for: Any) -> None:
    signer = Signer()
    shield = shield_for(signer)
    decision = await shield.decide(shield.facts(scope(signer.headers("gallery.example"))))
    assert decision.action is Action.BLOCK
    assert "webbotauth/valid" in {s.name for s in decision.reasons}


@pytest.mark.parametrize("case", ["wrong-authority", "other-key", "expired", "no-directory"])
async def test_invalid_signatures(shield_for: Any, case: str) -> None:
    signer, other = Signer(), Signer()
    headers = signer.headers("gallery.example")
    served: Signer | None = signer
    if case == "wrong-authority":
        headers = signer.headers("elsewhere.example")
    elif case == "other-key":
        served = other
    elif case == "expired":
        headers = signer.headers("gallery.example", expires_in=-3600)
    else:
        served = None
    shield = shield_for(served, allow_categories=["ai-assistant"])
    decision = await shield.decide(shield.facts(scope(headers)))
    assert "webbotauth/invalid" in {s.name for s in decision.reasons}
    assert decision.rule == "spoofed-crawler"


@pytest.mark.slow
async def test_key_directory_fetched_over_real_http() -> None:
    signer = Signer()

    async def directory(request: Any) -> JSONResponse:
        return JSONResponse(json.loads(signer.jwks()))

    app = Starlette(routes=[Route(DIRECTORY_PATH, directory)])
    with serve(app) as server:
        keys = await KeyDirectory().keys(server.url)
    assert list(keys) == [signer.keyid]


async def test_garbage_signature_headers_never_crash(shield_for: Any) -> None:
    shield = shield_for(Signer(), allow_categories=["ai-assistant"])
    junk = [("signature-agent", f'"{ORIGIN}"'), ("signature-input", "(((;;"), ("signature", "::")]
    decision = await shield.decide(shield.facts(scope(junk)))
    assert "webbotauth/invalid" in {s.name for s in decision.reasons}
    assert shield.fetch_calls == []  # nothing worth fetching keys for


async def test_unknown_signature_agents_are_never_fetched(shield_for: Any) -> None:
    """A client must not make the server fetch a URL of its choosing (SSRF)."""
    signer = Signer()
    shield = shield_for(signer, allow_categories=["ai-assistant"])
    headers = signer.headers("gallery.example", origin="http://169.254.169.254")
    decision = await shield.decide(shield.facts(scope(headers)))
    assert "webbotauth/unknown-agent" in {s.name for s in decision.reasons}
    assert decision.rule == "spoofed-crawler"
    assert shield.fetch_calls == []


async def test_concurrent_requests_share_one_directory_fetch() -> None:
    import asyncio

    signer, calls, gate = Signer(), [], asyncio.Event()

    async def fetch(url: str) -> bytes:
        calls.append(url)
        await gate.wait()
        return signer.jwks()

    directory = KeyDirectory(fetch)
    waiters = [asyncio.create_task(directory.keys(ORIGIN)) for _ in range(20)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*waiters)
    assert calls == [ORIGIN + DIRECTORY_PATH]
    assert all(list(keys) == [signer.keyid] for keys in results)


async def test_a_signature_after_unparseable_members_still_verifies(shield_for: Any) -> None:
    """Members are read where they start (after a comma); a bad one is skipped, not retried at
    every character (which cost seconds for a 64 KiB header)."""
    signer = Signer()
    shield = shield_for(signer, allow_categories=["ai-assistant"])
    headers = dict(signer.headers("gallery.example"))
    junk = "a" * 5000 + "=(" + "b" * 1000
    headers["signature-input"] = f"{junk}, other=(x, {headers['signature-input']}"
    headers["signature"] = f"{junk}, other=:%%:, {headers['signature']}"
    decision = await shield.decide(shield.facts(scope(list(headers.items()))))
    assert decision.rule == "verified-bot"


async def test_oversized_signature_headers_are_refused_unread(shield_for: Any) -> None:
    signer = Signer()
    shield = shield_for(signer, allow_categories=["ai-assistant"])
    headers = dict(signer.headers("gallery.example"))
    headers["signature-input"] += ", pad=(" + '"x" ' * (MAX_SIGNATURE_HEADER // 4) + ")"
    decision = await shield.decide(shield.facts(scope(list(headers.items()))))
    invalid = [s for s in decision.reasons if s.name == "webbotauth/invalid"]
    assert invalid
    assert "over" in invalid[0].detail
    assert shield.fetch_calls == []


async def test_long_structured_fields_are_not_parsed(shield_for: Any) -> None:
    """Signature-Agent and the covered-components list are parsed by http-sf only while short:
    a real one is tens of bytes, a hostile 8 KiB one cost milliseconds."""
    signer = Signer()
    shield = shield_for(signer, allow_categories=["ai-assistant"])
    headers = dict(signer.headers("gallery.example"))
    padded = headers["signature-input"].replace(
        '"signature-agent")', '"signature-agent"' + ' "x"' * 80 + ")"
    )
    decision = await shield.decide(
        shield.facts(scope(list({**headers, "signature-input": padded}.items())))
    )
    invalid = [s for s in decision.reasons if s.name == "webbotauth/invalid"]
    assert invalid
    assert "over 256" in invalid[0].detail
    agent = "sig1=" + f'"{ORIGIN}"' + ", x=" + '"' + "a" * 600 + '"'
    decision = await shield.decide(
        shield.facts(scope(list({**headers, "signature-agent": agent}.items())))
    )
    assert "webbotauth/unknown-agent" in {s.name for s in decision.reasons}
    assert shield.fetch_calls == []
