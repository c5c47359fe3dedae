"""gallery-dl, the most used art-site downloader: its generic extractor with default settings
(its own Firefox user agent), pointed at the gallery's seven index pages (48 originals each).

gallery-dl 1.32's generic extractor drops a URL's port (its domain pattern is `[-\\w.]+`), so
this row's demo listens on 127.0.0.1:80. Its requests and their statuses are read from its
verbose log (urllib3's one line per request), the files it saved are compared byte for byte.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.core import NAIVE, Ledger, classify, image_id
from benchmarks.efficacy.server import ServerOptions
from scrapeshield.demo.app import PER_PAGE
from scrapeshield.demo.art import ARTWORK_COUNT

_LINE = re.compile(r'"GET (\S+) HTTP/1\.1" (\d{3})')


def _bin() -> str | None:
    here = Path(sys.executable).with_name("gallery-dl")
    return str(here) if here.exists() else shutil.which("gallery-dl")


def _port80_free() -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", 80))
        except OSError:
            return False
    return True


@dataclass
class GalleryDl(Adversary):
    def unavailable(self) -> str | None:
        if _bin() is None:
            return "gallery-dl is not installed (pip install -e '.[dev]')"
        if not _port80_free():
            return "127.0.0.1:80 is taken or needs privileges (gallery-dl cannot take a port)"
        return None

    def run(self, base_url: str, ledger: Ledger) -> None:
        binary = _bin()
        assert binary is not None
        pages = (ARTWORK_COUNT + PER_PAGE - 1) // PER_PAGE
        urls = [f"generic:{base_url}/?page={n}" for n in range(1, pages + 1)]
        with tempfile.TemporaryDirectory(prefix="efficacy-gdl-") as tmp:
            log = Path(tmp) / "gallery-dl.log"
            command = [binary, "--config-ignore", "-o", "extractor.generic.enabled=true"]
            command += ["-D", f"{tmp}/out", "--write-log", str(log), "-v", *urls]
            try:
                subprocess.run(command, capture_output=True, timeout=ledger.budget.seconds + 5)
            except subprocess.TimeoutExpired:
                ledger.notes.append("stopped at the wall cap")
            text = log.read_text("utf-8", "replace") if log.exists() else ""
            for path, status in _LINE.findall(text):
                if ledger.requests >= ledger.budget.requests:
                    break
                file = Path(tmp) / "out" / path.rsplit("/", 1)[-1]
                artwork = image_id(path)
                body = file.read_bytes() if artwork is not None and file.exists() else b""
                kind = classify(int(status), body if artwork is not None else b"")
                ledger.record_digest(path, int(status), hashlib.sha256(body).hexdigest(), kind)
        version = subprocess.run([binary, "--version"], capture_output=True, text=True)
        ledger.notes.append(
            f"gallery-dl {version.stdout.strip()}, generic extractor, 7 index pages"
        )
        agent = subprocess.run(
            [sys.executable, "-c", "from gallery_dl import util; print(util.USERAGENT_FIREFOX)"],
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        if agent:
            ledger.notes.append(f"User-Agent: {agent} (gallery-dl's default)")


def adversaries() -> list[Adversary]:
    return [
        GalleryDl(
            "gallery-dl",
            "downloader",
            NAIVE,
            "real gallery-dl, generic extractor, default settings, the 7 index pages",
            options=ServerOptions(port=80),
        )
    ]
