"""Requests the pipeline treats gently, by design: health probes, first-party clients, CORS
preflights, and routes that must never be challenged (clients that run no JavaScript).

    health path      passed to the app by the middleware before anything runs (rule `health`)
    first party      a valid `credentials` entry: the ban and the rate limiter only
    CORS preflight   the ban and the user agent only: never counted, headers not judged
    on_challenge     what a challenge verdict becomes on a route group that forbids it
"""

from __future__ import annotations

from typing import Literal

import msgspec

from scrapeshield.detector import Detector
from scrapeshield.facts import Facts
from scrapeshield.policy import Verdict
from scrapeshield.signals import Action

HEALTH_RULE = "health"
PREFLIGHT_RULE = "cors-preflight"
FIRST_PARTY_PREFIX = "first-party/"
NO_CHALLENGE_PREFIX = "no-challenge/"
ON_CHALLENGE_NOTE = "on_challenge"
"""`ctx.notes` key: what a challenge verdict becomes for this request (see RouteGroupSpec)."""
# Which detectors decide a request that skips fingerprinting: a first-party client is counted by
# the rate limiter; a CORS preflight (a browser's, with minimal headers) is judged by its user
# agent alone (AI crawlers and scraper tools are still refused), and never counted.
FIRST_PARTY_DETECTORS = frozenset({"ratelimit"})
PREFLIGHT_DETECTORS = frozenset({"useragent", "ua-empty"})

Instead = Literal["throttle", "block"]


def named(detectors: list[Detector], names: frozenset[str]) -> list[Detector]:
    return [detector for detector in detectors if detector.name in names]


def is_preflight(facts: Facts) -> bool:
    """A CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-Method` (Fetch
    standard); it carries no credentials and returns no content."""
    headers = facts.headers
    return (
        facts.method == "OPTIONS"
        and "access-control-request-method" in headers
        and "origin" in headers
    )


def unchallenged(verdict: Verdict, instead: Instead) -> Verdict:
    """A challenge where none may be sent: `throttle` lets the rate limits decide (the verdict
    of an exceeded limit throttles, any other allows); `block` refuses. Named
    `no-challenge/<rule>`, so the app and `explain` see what was waived."""
    if instead == "block":
        action = Action.BLOCK
    elif verdict.retry_after is not None:  # a rate limit's (only they set retry_after)
        action = Action.THROTTLE
    else:
        action = Action.ALLOW
    return msgspec.structs.replace(verdict, action=action, rule=NO_CHALLENGE_PREFIX + verdict.rule)
