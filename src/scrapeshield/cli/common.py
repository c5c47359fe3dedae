"""What every subcommand shares: `--config` and `--store` to find the settings and the store."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapeshield.settings import Settings

ENV_PREFIX = "SCRAPESHIELD_"
"""`scrapeshield.settings.ENV_PREFIX`, named here so that asking whether any is set imports no
pydantic (a test checks the two agree)."""


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="settings TOML file")
    parser.add_argument(
        "--store", metavar="URL", help="store URL (memory://, redis://...); overrides settings"
    )


def load_settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The settings a subcommand runs with (imported here: `--help` needs none of pydantic)."""
    from scrapeshield.settings import Settings

    if args.store:
        overrides["store_url"] = args.store
    if args.config:
        return Settings.from_file(args.config, **overrides)
    return Settings(**overrides)


def settings_named(args: argparse.Namespace) -> bool:
    """True when this run's settings may differ from the defaults: `--config`, `--store` or a
    `SCRAPESHIELD_*` variable (any case, as the settings read them). Otherwise `Settings()` is the
    defaults, always valid, and a command that does not use them may skip building them
    (pydantic and every section's model: ~0.3 s) with the same output and exit code."""
    if getattr(args, "config", None) or getattr(args, "store", None):
        return True
    return any(name.upper().startswith(ENV_PREFIX) for name in os.environ)


def parse_duration(text: str) -> float:
    """`90`, `90s`, `15m`, `1h`, `2d`, `1w` → seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    value = text.strip().lower()
    try:
        if value and value[-1] in units:
            seconds = float(value[:-1]) * units[value[-1]]
        else:
            seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration like 30s, 15m, 1h, 2d"
        ) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("duration must be positive")
    return seconds
