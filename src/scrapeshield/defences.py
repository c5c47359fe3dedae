"""Detectors and the registry that builds them from settings."""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.behaviour.detector import BehaviourDetector
from scrapeshield.behaviour.trap import TrapDetector
from scrapeshield.challenge.core import signing_keys
from scrapeshield.detector import Detector, Immediate, RequestContext
from scrapeshield.directives.build import trap_paths
from scrapeshield.errors import ConfigurationError
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.datacenter import datacenter_detector
from scrapeshield.fingerprint.dnsverify import FCrDNS, Resolver
from scrapeshield.fingerprint.headers import HeaderConsistencyDetector
from scrapeshield.fingerprint.ipranges import load_ip_ranges
from scrapeshield.fingerprint.uaclass import UAClassifier
from scrapeshield.fingerprint.unverified import UnverifiedBotDetector
from scrapeshield.fingerprint.useragent import EMPTY_UA, UserAgentDetector
from scrapeshield.fingerprint.verified import VerifiedBotDetector
from scrapeshield.fingerprint.webbotauth import Fetcher, KeyDirectory, WebBotAuthDetector
from scrapeshield.identity.detector import IdentityDetector
from scrapeshield.lease.protocol import Steady
from scrapeshield.ratelimit.detector import RateLimitDetector
from scrapeshield.settings import Settings
from scrapeshield.signals import Signal


def build_detectors(
    settings: Settings, *, resolver: Resolver | None = None, key_fetcher: Fetcher | None = None
) -> list[Detector]:
    """Every detector the settings enable, in the order their signals are reported.

    The user-agent classifier is built once and shared; its parser is warmed here (CPU only,
    ~100 ms) so the first request does not pay for compiling ua-parser's regexes.
    """
    detectors = _fingerprint_detectors(settings, resolver, key_fetcher)
    if settings.identity.enabled:  # after `verified` (skips verified bots), before the limiter
        detectors.append(IdentityDetector(settings.identity, _identity_keys(settings)))
    if settings.ratelimit.enabled:  # after `verified`, whose result picks a verified bot's group
        detectors.append(
            RateLimitDetector(
                settings.ratelimit,
                max_keys=settings.memory_max_keys,
                monitor=settings.mode == "monitor",
                lease_requests=settings.lease.requests,
            )
        )
    return detectors


def _identity_keys(settings: Settings) -> list[bytes]:
    """The visitor token's keys: its own, else the challenge's (another token kind)."""
    own = settings.identity.secret_keys
    if own:
        return [key.get_secret_value().encode("utf-8") for key in own]
    return signing_keys(settings.challenge)


def _fingerprint_detectors(
    settings: Settings, resolver: Resolver | None, key_fetcher: Fetcher | None
) -> list[Detector]:
    fp = settings.fingerprint
    if not fp.enabled:
        return [_EmptyUADetector(), *_behaviour_detectors(settings)]
    catalogue = load_catalogue(fp.data_dir)
    unknown = [n for n in fp.allow_agents if catalogue.by_name(n) is None]
    if unknown:
        raise ConfigurationError(
            [f"fingerprint.allow_agents: {unknown} not in the catalogue (see docs/detection.md)"]
        )
    classifier = UAClassifier(catalogue, cache_size=fp.ua_cache_size)
    classifier.warm()
    detectors: list[Detector] = [UserAgentDetector(classifier, fp)]
    if fp.web_bot_auth:  # before `verified`, which reads its result
        origins = (o for agent in catalogue.agents for o in agent.signature_agents)
        detectors.append(WebBotAuthDetector(classifier, KeyDirectory(key_fetcher), origins))
    if fp.header_checks:
        detectors.append(HeaderConsistencyDetector(classifier, header_order=fp.header_order))
    if fp.verify:
        dns = FCrDNS(
            resolver,
            timeout=fp.verify_timeout,
            ttl=fp.verify_cache_ttl,
            max_entries=fp.verify_cache_size,
        )
        detectors.append(VerifiedBotDetector(classifier, fp, load_ip_ranges(fp.data_dir), dns))
    if fp.datacenter:  # after `verified`: a verified crawler is not counted
        detectors.append(datacenter_detector(fp))
    rl = settings.ratelimit
    detectors.append(
        UnverifiedBotDetector(
            classifier,
            fp,
            ipv4_prefix=rl.network_ipv4_prefix,
            ipv6_prefix=rl.network_ipv6_prefix,
        )
    )
    detectors.extend(_behaviour_detectors(settings))
    return detectors


def _behaviour_detectors(settings: Settings) -> list[Detector]:
    """Trap and behaviour detectors (docs/behaviour.md); independent of fingerprinting."""
    bh = settings.behaviour
    out: list[Detector] = []
    traps = trap_paths(settings)
    trap = bh.trap and bool(traps)
    if bh.enabled:  # first: on Redis its script reads the trap flag too (`TRAP_READ_NOTE`)
        out.append(BehaviourDetector(bh, reads_trap=trap, leases=settings.lease.enabled))
    if trap:
        out.append(TrapDetector(traps, bh.trap_flag_ttl))
    return out


class _EmptyUADetector(Steady, Immediate):
    """With fingerprinting off, a missing User-Agent is still worth a signal."""

    name = "ua-empty"
    uses_store = False

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        user_agent = facts.user_agent
        return (EMPTY_UA,) if not user_agent or user_agent.isspace() else ()


__all__ = ["Detector", "Immediate", "RequestContext", "build_detectors"]
