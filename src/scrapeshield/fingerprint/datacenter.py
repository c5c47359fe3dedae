"""`network/datacenter`: the client's address is in a cloud or hosting provider's published
ranges (docs/detection.md#datacenter-networks).

Scrapers rent their addresses there; people mostly do not, but some do (VPNs, cloud desktops,
corporate egress), so the signal is weighted to count only alongside others: alone it is below
the challenge score, and a challenge pass answers it. Never raised for a verified crawler, whose
published ranges are often inside a cloud's. The address is the resolved client address (a
trusted proxy's X-Forwarded-For), as for every other network signal.
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.errors import ConfigurationError
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.datacenter_ranges import ProviderRanges, load_provider_ranges
from scrapeshield.fingerprint.settings import FingerprintSettings
from scrapeshield.lease.protocol import Steady
from scrapeshield.ratelimit.settings import VERIFIED_BOT_NOTE
from scrapeshield.signals import Signal

DATACENTER = "network/datacenter"
DATACENTER_WEIGHT = 15.0  # policy/default.toml [weights] states it; the reasoning is there


class DatacenterDetector(Steady, Immediate):
    name = "datacenter"
    uses_store = False

    def __init__(self, ranges: ProviderRanges, weight: float = DATACENTER_WEIGHT) -> None:
        self.ranges = ranges
        self.weight = weight

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        ip = facts.client_ip
        if ip is None or VERIFIED_BOT_NOTE in ctx.notes:  # `verified` runs first
            return ()
        provider = self.ranges.lookup(ip)
        if provider is None:
            return ()
        return (Signal(DATACENTER, self.weight, f"{ip} is in {provider}'s published ranges"),)


def datacenter_detector(fp: FingerprintSettings) -> DatacenterDetector:
    """Built from the settings; an unreadable or malformed operator file (or refreshed data)
    is a ConfigurationError naming the setting."""
    try:
        return DatacenterDetector(load_provider_ranges(fp.data_dir, fp.datacenter_ranges_file))
    except (OSError, ValueError) as exc:
        setting = "datacenter_ranges_file" if fp.datacenter_ranges_file else "data_dir"
        raise ConfigurationError([f"fingerprint.{setting}: {exc}"]) from None
