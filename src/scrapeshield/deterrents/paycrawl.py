"""Pay per crawl: a price instead of a refusal, for crawlers that sign their requests.

The exchange follows the headers Cloudflare's pay-per-crawl uses: a verified crawler (its Web
Bot Auth signature checked against its operator's key directory, `ctx.notes["web_bot_auth"]`)
that the policy would block or decoy gets `402 Payment Required` with
`crawler-price: USD 0.01`. It may retry with `crawler-exact-price: USD 0.01` (the price it
was quoted) or send `crawler-max-price: USD 0.05` up front; either must be covered by its
signature, so the offer is the crawler's own. Accepted: the request is allowed
(`pay-per-crawl/charged`), the response carries `crawler-charged: USD 0.01`, and one JSON line
goes to the `scrapeshield.charges` logger (who, what, price) for the site to bill. Settling the
money is the site's business: this is where its billing plugs in.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal, InvalidOperation

import msgspec

from scrapeshield.detector import RequestContext
from scrapeshield.deterrents.settings import PayPerCrawlSettings
from scrapeshield.facts import Facts
from scrapeshield.policy.engine import Verdict
from scrapeshield.signals import Action

charges = logging.getLogger("scrapeshield.charges")

PRICE_STATUS = 402
COVERED_NOTE = "web_bot_auth_covered"  # the components the verified signature covers
_PRICED = (Action.BLOCK, Action.DECOY, Action.TARPIT)


def _price(value: str, currency: str) -> Decimal | None:
    """`USD 0.01` in `currency`, else None."""
    parts = value.split()
    if len(parts) != 2 or parts[0] != currency or len(parts[1]) > 20:
        return None
    try:
        price = Decimal(parts[1])
    except InvalidOperation:
        return None
    return price if price.is_finite() and price >= 0 else None


class PayPerCrawl:
    def __init__(self, settings: PayPerCrawlSettings) -> None:
        self.price = settings.price
        self.currency = settings.currency
        self.agents = frozenset(settings.agents)
        self.quote = f"{self.currency} {self.price}".encode()

    def accepted(self, facts: Facts, ctx: RequestContext) -> bool:
        """The crawler's signed offer meets the price."""
        covered = ctx.notes.get(COVERED_NOTE, frozenset())
        exact = facts.headers.get("crawler-exact-price")
        if exact is not None and "crawler-exact-price" in covered:
            return _price(exact, self.currency) == self.price
        most = facts.headers.get("crawler-max-price")
        if most is not None and "crawler-max-price" in covered:
            offer = _price(most, self.currency)
            return offer is not None and offer >= self.price
        return False

    def consider(
        self, facts: Facts, ctx: RequestContext, verdict: Verdict
    ) -> tuple[Verdict, int | None]:
        """The verdict for a priced crawler (and the status of a refusal), or the same one."""
        agent = ctx.notes.get("web_bot_auth")
        if not agent or verdict.action not in _PRICED or (self.agents and agent not in self.agents):
            return verdict, None
        if self.accepted(facts, ctx):
            ctx.app_headers = [*(ctx.app_headers or ()), (b"crawler-charged", self.quote)]
            if not ctx.notes.get("dry_run"):
                self._log(facts, agent)
            allowed = Verdict(Action.ALLOW, "pay-per-crawl/charged", verdict.score, verdict.reasons)
            return allowed, None
        ctx.response_headers.append((b"crawler-price", self.quote))
        priced = msgspec.structs.replace(verdict, action=Action.BLOCK, rule="pay-per-crawl/price")
        return priced, PRICE_STATUS

    def _log(self, facts: Facts, agent: str) -> None:
        event = {
            "event": "charge",
            "time": round(time.time(), 3),
            "agent": agent,
            "client_key": facts.client_key,
            "method": facts.method,
            "path": facts.path,
            "price": str(self.price),
            "currency": self.currency,
            "request_id": facts.request_id,
        }
        charges.info(json.dumps(event, separators=(",", ":")))
