"""The binding kept per header set (`lease.Bindings`): always the binding `binding` builds, for
memo'd facts (one headers dict for every repeat) and for facts that share a headers dict but
differ in another bound input."""

from __future__ import annotations

import random

import msgspec

from scrapeshield import Settings
from scrapeshield.facts import FactsBuilder
from scrapeshield.lease.lease import Bindings, binding
from tests.test_facts_memo import _scope

_SETTINGS = Settings(trusted_proxies=["10.0.0.0/8"])


def test_it_is_the_binding_of_every_request() -> None:
    rng = random.Random(23)
    builder, kept = FactsBuilder(_SETTINGS), Bindings()
    scopes = [_scope(rng) for _ in range(60)]
    for _ in range(3_000):
        facts = builder.build(dict(rng.choice(scopes)))  # (repeats: the memo's facts)
        assert kept(facts) == binding(facts)


def test_a_shared_headers_dict_with_other_inputs_is_bound_anew() -> None:
    rng = random.Random(29)
    builder, kept = FactsBuilder(_SETTINGS), Bindings()
    changes = {
        "client_ip": "198.51.100.99",
        "peer": "10.9.9.9",
        "scheme": "gopher",
        "http_version": "3",
        "host": "other.example",
        "secure_context": True,
        "via_proxy": True,
        "user_agent": "changed/1.0",
        "user_agent_truncated": True,
    }
    for _ in range(300):
        facts = builder.build(_scope(rng))
        assert kept(facts) == binding(facts)
        for field, value in changes.items():
            other = msgspec.structs.replace(facts, **{field: value})  # (its headers dict shared)
            assert other.headers is facts.headers
            assert kept(other) == binding(other)
            assert kept(facts) == binding(facts)
