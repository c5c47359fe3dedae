"""`scrapeshield update-data`: refresh the bot catalogue, crawler and cloud-provider IP ranges."""

from __future__ import annotations

import argparse
import sys

from scrapeshield.cli.common import load_settings
from scrapeshield.fingerprint.data_update import update_data


def run(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or load_settings(args).fingerprint.data_dir
    if not data_dir:
        print(
            "scrapeshield update-data: no data directory: set fingerprint.data_dir "
            "(SCRAPESHIELD_FINGERPRINT__DATA_DIR) or pass --data-dir",
            file=sys.stderr,
        )
        return 2
    report = update_data(data_dir, mirror=args.mirror)
    for name in report.written:
        print(f"updated  {data_dir}/{name}")
    for problem in report.failed:
        print(f"FAILED   {problem} (previous data kept)", file=sys.stderr)
    if report.written:
        print("restart the application to load the new data")
    return 1 if report.failed else 0
