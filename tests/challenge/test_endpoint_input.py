"""Whatever a client sends to the verification endpoint, it gets a 4xx, never an error."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message

from scrapeshield.shield import Shield, synthetic_scope
from tests.challenge.helpers import challenge_all

SHIELD = Shield(challenge_all())


async def call(method: str, query: str, body: bytes, headers: list[tuple[str, str]]) -> int:
    path = SHIELD.settings.challenge.path + (f"?{query}" if query else "")
    scope = synthetic_scope(method=method, path=path, headers=headers)
    facts = SHIELD.facts(scope)
    endpoint = SHIELD.endpoint_for(facts)
    assert endpoint is not None
    chunks = [body[:100], body[100:]] if len(body) > 100 else [body]
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await endpoint(facts, scope, receive, send)
    return int(sent[0]["status"])


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    query=st.text(max_size=200),
    body=st.binary(max_size=6000)
    | st.builds(
        lambda t, c: f"token={t}&counter={c}".encode(),
        st.text(max_size=300),
        st.text(max_size=30),
    ),
    accept=st.sampled_from(["text/html", "application/json", "", "*/*"]),
)
def test_any_input_gets_a_client_error(method: str, query: str, body: bytes, accept: str) -> None:
    status = asyncio.run(call(method, query, body, [("accept", accept)]))
    assert status in (403, 405)
