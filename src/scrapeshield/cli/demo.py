"""`scrapeshield demo`: serve the art gallery protected by scrapeshield."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from scrapeshield.cli.common import load_settings


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("scrapeshield demo needs uvicorn: pip install 'scrapeshield[demo]'", file=sys.stderr)
        return 2
    from scrapeshield.demo.app import DASHBOARD_PATH, TRAP_PATH, create_app

    overrides: dict[str, Any] = {}
    if not args.config:
        overrides = {
            "site_name": "Demo Art Gallery",
            "terms_url": "/terms",
            "directives": {"trap_paths": [TRAP_PATH]},
        }
    settings = load_settings(args, **overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(
        f"Demo gallery on http://{args.host}:{args.port}/ (store {settings.store_url}, "
        f"mode {settings.mode}); block log on stderr as JSON lines",
        file=sys.stderr,
    )
    if settings.dashboard.tokens:
        print(
            f"Dashboard on http://{args.host}:{args.port}{DASHBOARD_PATH}/ (sign in with a "
            "token from SCRAPESHIELD_DASHBOARD__TOKENS)",
            file=sys.stderr,
        )
    # proxy_headers off: scrapeshield decides which forwarding headers to trust.
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        proxy_headers=False,
        log_level="info",
    )
    return 0
