"""Verified good bots: a request claiming a verifiable agent is checked against the operator's
published IP ranges, then forward-confirmed reverse DNS.

Only agents the operator admits are verified (by default search engines, social previews, feed
readers, archivers, monitors; plus `fingerprint.allow_categories` / `allow_agents`): a blocked
AI crawler is blocked whether or not it is genuine.

  bot/verified/<name>  weight -100: the claim holds; the default policy allows it
  bot/spoofed/<name>   weight +100: the claim is false (IP outside the ranges, DNS disagrees)
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from scrapeshield.client import IPAddress
from scrapeshield.detector import Found, Immediate, RequestContext, settled
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.catalogue import Agent
from scrapeshield.fingerprint.dnsverify import FCrDNS
from scrapeshield.fingerprint.ipranges import IPRanges
from scrapeshield.fingerprint.settings import DEFAULT_VERIFIED, FingerprintSettings
from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.fingerprint.useragent import is_allowed
from scrapeshield.lease.protocol import Stateless
from scrapeshield.ratelimit.settings import VERIFIED_BOT_NOTE
from scrapeshield.signals import Signal

VERIFIED_WEIGHT = -100.0
SPOOFED_WEIGHT = 100.0


class VerifiedBotDetector(Stateless, Immediate):
    name = "verified"
    uses_store = False

    def __init__(
        self,
        classifier: UAClassifier,
        settings: FingerprintSettings,
        ranges: IPRanges,
        dns: FCrDNS,
    ) -> None:
        self.classifier = classifier
        self.settings = settings
        self.ranges = ranges
        self.dns = dns

    def admits(self, agent: Agent) -> bool:
        if agent.category in self.settings.block_categories:
            return False
        return agent.category in DEFAULT_VERIFIED or is_allowed(agent, self.settings)

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        found = self._verify(facts, ctx)
        if not settled(found):  # a reverse-DNS check: only for a claimed crawler, cached
            return self._noted_later(found, ctx)  # type: ignore[arg-type]
        return self._noted(found, ctx)

    async def _noted_later(
        self, pending: Awaitable[Sequence[Signal]], ctx: RequestContext
    ) -> Sequence[Signal]:
        return self._noted(await pending, ctx)

    @staticmethod
    def _noted(signals: Sequence[Signal], ctx: RequestContext) -> Sequence[Signal]:
        for signal in signals:
            if signal.name.startswith("bot/verified/"):
                # Read by rate limiting: a verified bot is counted only in its own group.
                ctx.notes[VERIFIED_BOT_NOTE] = signal.name.removeprefix("bot/verified/")
        return signals

    def _verify(self, facts: Facts, ctx: RequestContext) -> Found:
        if not facts.user_agent.strip():
            return ()
        info = self.classifier.classify_noted(facts.user_agent, ctx.notes)
        agent = info.agent
        if agent is None or not self.admits(agent):
            return ()
        if agent.verification == "none" and not agent.signature_agents:
            return ()
        if ctx.notes.get("web_bot_auth") == agent.name:
            return (Signal(f"bot/verified/{agent.name}", VERIFIED_WEIGHT, "Web Bot Auth"),)
        ip = facts.client_ip
        if ip is None or agent.verification == "none":
            detail = f"{agent.name} signs its requests (Web Bot Auth) and this one is not signed"
            return (Signal(f"bot/spoofed/{agent.name}", SPOOFED_WEIGHT, detail),)
        if agent.ip_ranges and self.ranges.contains(agent.ip_ranges, ip):
            detail = f"{ip} is in {agent.operator}'s published ranges ({agent.ip_ranges})"
            return (Signal(f"bot/verified/{agent.name}", VERIFIED_WEIGHT, detail),)
        if agent.rdns_suffixes:
            return self._verify_dns(agent, ip)
        return _spoofed(agent, ip)

    async def _verify_dns(self, agent: Agent, ip: IPAddress) -> Sequence[Signal]:
        host = await self.dns.verify(str(ip), agent.rdns_suffixes)
        if host is not None:
            detail = f"{ip} reverse-resolves to {host}, which resolves back to it"
            return (Signal(f"bot/verified/{agent.name}", VERIFIED_WEIGHT, detail),)
        return _spoofed(agent, ip)


def _spoofed(agent: Agent, ip: IPAddress) -> Sequence[Signal]:
    detail = f"claims to be {agent.name} ({agent.operator}) but {ip} is not theirs"
    return (Signal(f"bot/spoofed/{agent.name}", SPOOFED_WEIGHT, detail),)
