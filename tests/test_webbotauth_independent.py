"""Web Bot Auth over real HTTP, signed by an independent RFC 9421 implementation
(`http-message-signatures` on PyPI): the Signature-Agent dictionary covered as
`"signature-agent";key="sig1"`, and the older bare-string form."""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scrapeshield import ScrapeShield, Settings, Shield
from scrapeshield.fingerprint.webbotauth import (
    DIRECTORY_MEDIA_TYPE,
    DIRECTORY_PATH,
    KeyDirectory,
    WebBotAuthDetector,
    jwk_thumbprint,
    url_fetch,
)
from tests.servers import LOOPS, serve

ORIGIN = "https://chatgpt.com"  # a catalogue agent's signature origin (ChatGPT agent)
UA = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT Agent/1.0"
KEY = Ed25519PrivateKey.generate()
X = base64.urlsafe_b64encode(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
KEYID = jwk_thumbprint(X.rstrip(b"=").decode())


class Keys(HTTPSignatureKeyResolver):
    def resolve_private_key(self, key_id: str) -> Any:
        return KEY

    def resolve_public_key(self, key_id: str) -> Any:
        return KEY.public_key()


async def directory(request: Request) -> Response:
    body = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": X.rstrip(b"=").decode()}]}
    return Response(json.dumps(body), media_type=DIRECTORY_MEDIA_TYPE)


async def page(request: Request) -> JSONResponse:
    decision = request.state.scrapeshield
    return JSONResponse({"rule": decision.rule, "reasons": [s.name for s in decision.reasons]})


def signed(
    url: str, agent: str, component: str, extra: dict[str, str] | None = None, *, cover: bool = True
) -> requests.PreparedRequest:
    headers = {"User-Agent": UA, "Signature-Agent": agent, **(extra or {})}
    request = requests.Request("GET", url, headers=headers).prepare()
    more = tuple(name.lower() for name in extra or ()) if cover else ()
    now = datetime.datetime.now(datetime.UTC)
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Keys()).sign(
        request,
        key_id=KEYID,
        created=now,
        expires=now + datetime.timedelta(minutes=1),
        nonce="n-1",
        label="sig1",
        tag="web-bot-auth",
        covered_component_ids=("@authority", component, *more),
    )
    return request


@contextlib.contextmanager
def site(loop: str, settings: Settings) -> Iterator[str]:
    """The site behind the shield, and the agent's key directory, both over real HTTP."""
    keys = Starlette(routes=[Route(DIRECTORY_PATH, directory)])
    with serve(keys, loop=loop) as key_server:

        async def fetch(url: str) -> bytes:  # the agent's origin, served here over real HTTP
            return await url_fetch(url.replace(ORIGIN, key_server.url))

        shield = Shield(settings)
        for detector in shield.detectors:
            if isinstance(detector, WebBotAuthDetector):
                detector.directory = KeyDirectory(fetch)
        app = ScrapeShield(Starlette(routes=[Route("/page", page)]), shield=shield)
        with serve(app, loop=loop) as server:
            yield server.url


@pytest.mark.parametrize("loop", LOOPS)
def test_signatures_from_an_independent_signer(loop: str) -> None:
    settings = Settings(fingerprint={"allow_categories": ["ai-assistant"]})
    with site(loop, settings) as base, requests.Session() as session:
        url = f"{base}/page"
        cases = {
            "dictionary": (f'sig1="{ORIGIN}"', '"signature-agent";key="sig1"'),
            "second member": (
                f'other="https://x.example", sig1="{ORIGIN}"',
                '"signature-agent";key="sig1"',
            ),
            "bare string": (f'"{ORIGIN}"', "signature-agent"),
        }
        for name, (agent, component) in cases.items():
            response = session.send(signed(url, agent, component), timeout=10)
            assert response.status_code == 200, name
            assert response.json()["rule"] == "verified-bot", name
            assert "webbotauth/valid" in response.json()["reasons"], name

        tampered = signed(url, f'sig1="{ORIGIN}"', '"signature-agent";key="sig1"')
        tampered.headers["Signature-Agent"] = f'sig1="{ORIGIN}/other"'
        assert session.send(tampered, timeout=10).status_code == 403
        swapped = signed(url, f'sig1="{ORIGIN}", sig2="{ORIGIN}"', '"signature-agent";key="sig1"')
        swapped.headers["Signature-Agent"] = f'sig1="https://x.example", sig2="{ORIGIN}"'
        assert session.send(swapped, timeout=10).status_code == 403
        refused = {
            # a member keyed to another label is not this signature's
            "other label": (f'other="{ORIGIN}"', '"signature-agent";key="other"'),
            # only `directory` members name a key directory (jwks_uri, cimd: not supported)
            "jwks_uri type": (
                f'sig1="{ORIGIN}/keys.json";type=jwks_uri',
                '"signature-agent";key="sig1"',
            ),
            # the member naming the directory must be signed
            "uncovered": (f'sig1="{ORIGIN}"', "@method"),
        }
        for name, (agent, component) in refused.items():
            response = session.send(signed(url, agent, component), timeout=10)
            assert response.status_code == 403, name


@pytest.mark.parametrize("loop", LOOPS)
def test_pay_per_crawl(loop: str, caplog: pytest.LogCaptureFixture) -> None:
    """ChatGPT Agent (ai-assistant) is blocked by default; with pay per crawl it is quoted a
    price, and let in when its signed offer meets it."""
    agent, component = f'sig1="{ORIGIN}"', '"signature-agent";key="sig1"'
    caplog.set_level(logging.INFO, logger="scrapeshield.charges")
    with site(loop, Settings()) as base, requests.Session() as session:
        assert session.send(signed(f"{base}/page", agent, component), timeout=10).status_code == 403
    settings = Settings(pay_per_crawl={"enabled": True, "price": "0.01"})
    with site(loop, settings) as base, requests.Session() as session:
        url = f"{base}/page"

        def send(extra: dict[str, str] | None = None, *, cover: bool = True) -> Any:
            return session.send(signed(url, agent, component, extra, cover=cover), timeout=10)

        quoted = send()
        assert quoted.status_code == 402
        assert quoted.headers["crawler-price"] == "USD 0.01"
        for offer in ({"crawler-exact-price": "USD 0.01"}, {"crawler-max-price": "USD 0.05"}):
            paid = send(offer)
            assert paid.status_code == 200, offer
            assert paid.headers["crawler-charged"] == "USD 0.01"
            assert paid.json()["rule"] == "pay-per-crawl/charged"
        for refused in (
            {"crawler-exact-price": "USD 0.02"},
            {"crawler-max-price": "USD 0.001"},
            {"crawler-max-price": "EUR 5"},
            {"crawler-max-price": "USD lots"},
        ):
            assert send(refused).status_code == 402, refused
        assert send({"crawler-max-price": "USD 0.05"}, cover=False).status_code == 402  # unsigned
        spoof = session.get(url, headers={"User-Agent": UA, "crawler-max-price": "USD 1"})
        assert spoof.status_code == 403  # an unsigned claim is still a spoof: no price for it
    events = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "scrapeshield.charges"
    ]
    assert len(events) == 2  # one per offer accepted
    assert {e["price"] for e in events} == {"0.01"}
    assert events[0]["agent"] == "ChatGPT Agent"
    assert events[0]["path"] == "/page"
