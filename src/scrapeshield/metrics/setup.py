"""Build a shield's metrics, or say which extra is missing (prometheus_client is imported only
when metrics are on)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapeshield.blocklog import BlockLog
from scrapeshield.errors import ConfigurationError
from scrapeshield.settings import Settings
from scrapeshield.store.base import Store

if TYPE_CHECKING:
    from scrapeshield.metrics.core import Metrics

MISSING_EXTRA = (
    "metrics.enabled (SCRAPESHIELD_METRICS__ENABLED): needs the prometheus extra, which is not "
    "installed: pip install 'scrapeshield[prometheus]'"
)


def open_metrics(settings: Settings, store: Store, blocklog: BlockLog) -> Metrics:
    """The shield's metrics; `ConfigurationError` naming the extra without prometheus_client."""
    try:
        from scrapeshield.metrics.core import Metrics
    except ImportError as exc:
        if not str(exc.name).startswith("prometheus_client"):
            raise
        raise ConfigurationError([MISSING_EXTRA]) from None
    return Metrics(settings, store, blocklog)
