"""The Redis store's URL: checked as redis-py will parse it, and shown without its password."""

from __future__ import annotations

from redis.asyncio.connection import parse_url

from scrapeshield.errors import ConfigurationError

_CERT_REQS = {"none", "optional", "required"}


def safe_url(url: str) -> str:
    """The URL without its password, for logs."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rsplit('@', 1)[-1]}"
    return url


def check_url(url: str) -> None:
    """Parse the URL as redis-py will (no I/O): a bad URL fails at start-up, not per request."""
    try:
        options = dict(parse_url(url))
    except ValueError as exc:  # (redis-py's messages never repeat the URL, nor its password)
        raise ConfigurationError([f"store_url: {exc}"]) from None
    reqs = str(options.get("ssl_cert_reqs", "required")).lower()
    if reqs not in _CERT_REQS:
        raise ConfigurationError(
            [f"store_url: ssl_cert_reqs={reqs!r}; use none, optional or required"]
        )
