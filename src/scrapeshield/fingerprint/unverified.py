"""Good bots that cannot be verified: what they need, and nothing else (docs/detection.md).

Social previews, feed readers, monitors, archivers and search engines that publish neither IP
ranges nor reverse-DNS names (Twitterbot, Discordbot, Slackbot, WhatsApp, DuckDuckBot, Feedly,
UptimeRobot, heritrix...) are allowed by name, and anyone can send the name. So a request that
names one gets the route groups such a bot needs (`fingerprint.unverified_bot_groups`: pages,
with their Open Graph tags, and feeds live in `default`; health paths never reach here) and a
strict budget per network; originals and everything else are refused:

  bot/unverified/<name>        weight 0: the claim, for the block log
  bot/unverified/off-limits    weight 100: a route group outside unverified_bot_groups (rule:
                               block; the decoy action will take originals later)
  bot/unverified/over-limit    weight 0: more than unverified_bot_limit requests per
                               unverified_bot_window from one network (/24, /48) (rule: throttle)

An agent the operator allows by name or category (`bot/allowed/*`) is not judged here, nor one
that can be verified (published ranges, reverse DNS, Web Bot Auth: `verified.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from functools import partial
from typing import Any

from scrapeshield.client import IPAddress
from scrapeshield.detector import Found, Immediate, RequestContext
from scrapeshield.facts import Facts, client_network
from scrapeshield.fingerprint.settings import DEFAULT_VERIFIED, FingerprintSettings
from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.fingerprint.useragent import is_allowed
from scrapeshield.lease.protocol import Stateless
from scrapeshield.signals import Signal
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore

OFF_LIMITS = "bot/unverified/off-limits"
OVER_LIMIT = "bot/unverified/over-limit"
_COUNT = "local v = redis.call('INCR', KEYS[1]) " + (
    "if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v"
)


class UnverifiedBotDetector(Stateless, Immediate):
    name = "unverified"
    uses_store = True

    def __init__(
        self,
        classifier: UAClassifier,
        settings: FingerprintSettings,
        *,
        ipv4_prefix: int = 24,
        ipv6_prefix: int = 48,
    ) -> None:
        self.classifier = classifier
        self.settings = settings
        self._groups = frozenset(settings.unverified_bot_groups)
        self._prefixes = (ipv4_prefix, ipv6_prefix)

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        if not facts.user_agent.strip():
            return ()
        agent = self.classifier.classify_noted(facts.user_agent, ctx.notes).agent
        if (
            agent is None
            or agent.verification != "none"
            or agent.signature_agents
            or agent.category not in DEFAULT_VERIFIED
            or agent.category in self.settings.block_categories
            or is_allowed(agent, self.settings)
        ):
            return ()
        claim = Signal(f"bot/unverified/{agent.name}", 0.0, f"{agent.name} cannot be verified")
        if facts.route_group not in self._groups:
            detail = f"{agent.name} needs pages and feeds, not the {facts.route_group} group"
            return (claim, Signal(OFF_LIMITS, 100.0, detail))
        if facts.client_ip is None or ctx.notes.get("dry_run"):
            return (claim,)
        return self._counted(facts, facts.client_ip, ctx, claim)

    def _counted(self, facts: Facts, ip: IPAddress, ctx: RequestContext, claim: Signal) -> Found:
        """One counter per network and window: at once in memory, queued on Redis."""
        s = self.settings
        network = client_network(ip, *self._prefixes)
        window = int(facts.time // s.unverified_bot_window)
        key = f"ub:{network}:{window}"
        retry = (window + 1) * s.unverified_bot_window - facts.time
        store = ctx.store
        if isinstance(store, MemoryStore):
            return self._judged(store.bump(key, 1, s.unverified_bot_window), claim, network, retry)
        if on_redis(store):
            ms = int(s.unverified_bot_window * 1000)
            then = partial(self._judged_reply, claim, network, retry)
            return store.queue_script(_COUNT, [key], [ms], then)
        counting = store.incr(key, 1, ttl=s.unverified_bot_window)
        return self._later(counting, claim, network, retry)

    async def _later(
        self, reply: Awaitable[int], claim: Signal, network: object, retry: float
    ) -> Sequence[Signal]:
        return self._judged(int(await reply), claim, network, retry)

    def _judged_reply(
        self, claim: Signal, network: object, retry: float, count: Any
    ) -> Sequence[Signal]:
        return self._judged(int(count), claim, network, retry)

    def _judged(self, count: int, claim: Signal, network: object, retry: float) -> Sequence[Signal]:
        s = self.settings
        if count <= s.unverified_bot_limit:
            return (claim,)
        detail = (
            f"{count} requests from unverified bots on {network} in "
            f"{s.unverified_bot_window:g}s (limit {s.unverified_bot_limit})"
        )
        return (claim, Signal(OVER_LIMIT, 0.0, detail, retry_after=max(1.0, retry)))
