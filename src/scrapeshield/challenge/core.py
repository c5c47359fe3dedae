"""The challenge wired into a Shield: keys, issuing pages, and the shared client binding.

`install_challenge(shield)` adds three pieces through the Shield's seams:

- the action handler for `challenge` decisions (a page for navigations, JSON otherwise),
- the endpoint that verifies answers and sets the pass cookie (`endpoint.py`),
- the detector that reads the pass cookie into a `challenge/passed` signal (`detector.py`).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp

from scrapeshield.challenge.page import challenge_page, is_navigation, refusal, safe_return_path
from scrapeshield.challenge.pow import difficulty_for
from scrapeshield.challenge.settings import ChallengeSettings
from scrapeshield.challenge.tokens import Signer, binding_for, network_of
from scrapeshield.facts import Facts
from scrapeshield.pages.site import Pages
from scrapeshield.settings import Settings
from scrapeshield.signals import Decision
from scrapeshield.store.base import Store

logger = logging.getLogger("scrapeshield")

# The challenge's block-log events (docs/block-log.md).
ISSUED, PASSED, FAILED = "challenge/issued", "challenge/passed", "challenge/failed"
REFUSAL_MESSAGE = "Automated access to this site is restricted; open the page in a web browser."

_process_key: bytes | None = None


def signing_keys(settings: ChallengeSettings) -> list[bytes]:
    """The configured keys, or one random key per process (with a warning: workers disagree)."""
    global _process_key
    if settings.secret_keys:
        return [key.get_secret_value().encode("utf-8") for key in settings.secret_keys]
    if _process_key is None:
        _process_key = secrets.token_bytes(32)
        logger.warning(
            "challenge.secret_keys is not set: using a random key for this process. Passes "
            "will not survive a restart, and with several workers a pass from one is refused "
            "by the others; configure SCRAPESHIELD_CHALLENGE__SECRET_KEYS."
        )
    return [_process_key]


LogFn = Callable[..., Awaitable[None]]


def _budget_use(decision: Decision) -> float:
    """The identity defences' budget use the shield copied onto a challenge decision."""
    use = decision.extra.get("budget_use", 0.0)
    return float(use) if isinstance(use, int | float) else 0.0


class Challenge:
    """Compiled from settings once; shared by the handler, the endpoint and the detector."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        threshold: float,
        log: LogFn,
        enforcing: bool,
        pages: Pages,
    ) -> None:
        self.config = settings.challenge
        self.pages = pages
        self.terms_url = settings.terms_url
        self.signer = Signer(signing_keys(self.config))
        self.store = store
        self.threshold = threshold
        self.log = log
        self.enforcing = enforcing
        self.json_groups = frozenset(self.config.json_route_groups)

    def binding(self, facts: Facts) -> str:
        network = network_of(facts.client_ip, self.config.ipv4_prefix, self.config.ipv6_prefix)
        return binding_for(network, facts.user_agent)

    def event_for(self, decision: Decision, facts: Facts) -> str:
        """The block-log event of a challenge decision: `challenge/issued` when a page is sent."""
        if decision.enforced and decision.status is None and self.is_navigation(facts):
            return ISSUED
        return "decision"

    def is_navigation(self, facts: Facts) -> bool:
        return is_navigation(facts, self.json_groups)

    def difficulty(self, score: float, budget_use: float = 0.0) -> int:
        c = self.config
        return difficulty_for(
            score,
            self.threshold,
            base=c.difficulty,
            step=c.difficulty_step,
            maximum=c.max_difficulty,
            budget_use=budget_use,
            budget_free=c.budget_free,
            budget_step=c.budget_step,
        )

    async def respond(self, decision: Decision, facts: Facts) -> ASGIApp | None:
        """The action handler: a challenge page for navigations, a JSON refusal otherwise."""
        c = self.config
        if not self.is_navigation(facts):
            status = c.status if c.status >= 400 else 403
            return refusal(status, REFUSAL_MESSAGE, decision.request_id, self.terms_url)
        now = time.time()
        binding = self.binding(facts)
        back = safe_return_path(facts.path, facts.query)
        # One nonce for the page's work and its no-JS link: one page, one pass (endpoint.py).
        nonce = secrets.token_urlsafe(16)
        difficulty = self.difficulty(decision.score, _budget_use(decision))
        expires = round(now + c.challenge_ttl, 3)
        bound = {"b": binding, "r": back, "n": nonce, "exp": expires}
        token = self.signer.sign("pow", {**bound, "d": difficulty})
        wait_url = None
        if c.noscript_fallback:
            opens = round(now + c.noscript_wait, 3)
            wait = self.signer.sign("wait", {**bound, "nbf": opens})
            wait_url = f"{c.path}?wait={wait}"
        return challenge_page(
            self.pages,
            facts,
            token=token,
            nonce=nonce,
            difficulty=difficulty,
            action=c.path,
            status=c.status,
            request_id=decision.request_id,
            wait_url=wait_url,
            wait_seconds=c.noscript_wait,
        )
