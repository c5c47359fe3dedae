"""Naive tools with their own user agents, each fetching /images/1.png .. /images/300.png in
order: real curl, wget and Scrapy processes, python-requests, and Go's default header set."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks.efficacy.adversary import Adversary
from benchmarks.efficacy.client import RawClient
from benchmarks.efficacy.core import NAIVE, Ledger, classify
from benchmarks.efficacy.headers import GO_HTTP_CLIENT
from scrapeshield.demo.art import ARTWORK_COUNT

THREAT = "naive tool"
SPIDER = Path(__file__).with_name("scrapy_spider.py")


def _urls(base: str, count: int) -> list[str]:
    return [f"{base}/images/{i}.png" for i in range(1, count + 1)]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _record_file(ledger: Ledger, path: str, status: int, file: Path) -> None:
    body = file.read_bytes() if file.exists() else b""
    kind = classify(status, body)
    ledger.record_digest(path, status, hashlib.sha256(body).hexdigest(), kind)


@dataclass
class Curl(Adversary):
    def unavailable(self) -> str | None:
        return None if shutil.which("curl") else "curl is not installed"

    def run(self, base_url: str, ledger: Ledger) -> None:
        count = min(ARTWORK_COUNT, ledger.budget.requests)
        with tempfile.TemporaryDirectory(prefix="efficacy-curl-") as tmp:
            # one process, URL globbing: how curl users fetch a numbered series
            command = ["curl", "-s", "-w", "%{http_code} %{url_effective}\\n"]
            command += ["-o", f"{tmp}/#1.png", f"{base_url}/images/[1-{count}].png"]
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=ledger.budget.seconds + 5
            )
            for line in done.stdout.splitlines():
                status, url = line.split(" ", 1)
                number = re.search(r"/images/(\d+)\.png$", url)
                file = Path(tmp) / f"{number.group(1) if number else 'x'}.png"
                _record_file(ledger, _path(url), int(status), file)
        ledger.notes.append("curl " + subprocess.run(
            ["curl", "--version"], capture_output=True, text=True).stdout.split()[1])  # fmt: skip


@dataclass
class Wget(Adversary):
    def unavailable(self) -> str | None:
        return None if shutil.which("wget") else "wget is not installed (apt-get install wget)"

    def run(self, base_url: str, ledger: Ledger) -> None:
        count = min(ARTWORK_COUNT, ledger.budget.requests)
        with tempfile.TemporaryDirectory(prefix="efficacy-wget-") as tmp:
            listing = Path(tmp) / "urls.txt"
            listing.write_text("\n".join(_urls(base_url, count)) + "\n")
            out = Path(tmp) / "out"
            # -S: server responses on stderr, in order; --content-on-error keeps refusals so
            # every answer is compared byte for byte (wget discards them by default)
            command = ["wget", "-S", "-nv", "--content-on-error", "-P", str(out), "-i"]
            done = subprocess.run(
                [*command, str(listing)],
                capture_output=True, text=True, timeout=ledger.budget.seconds + 5,
            )  # fmt: skip
            statuses = [int(s) for s in re.findall(r"^\s+HTTP/1\.1 (\d{3})", done.stderr, re.M)]
            for number, status in enumerate(statuses, 1):
                _record_file(ledger, f"/images/{number}.png", status, out / f"{number}.png")
        version = subprocess.run(["wget", "--version"], capture_output=True, text=True)
        ledger.notes.append(" ".join(version.stdout.split()[:3]))


@dataclass
class Scrapy(Adversary):
    def run(self, base_url: str, ledger: Ledger) -> None:
        count = min(ARTWORK_COUNT, ledger.budget.requests)
        with tempfile.TemporaryDirectory(prefix="efficacy-scrapy-") as tmp:
            out = Path(tmp) / "seen.jsonl"
            command = [sys.executable, "-m", "scrapy", "runspider", str(SPIDER)]
            command += ["-a", f"base={base_url}", "-a", f"count={count}", "-a", f"out={out}"]
            command += ["-s", "LOG_LEVEL=ERROR", "-s", "TELNETCONSOLE_ENABLED=False"]
            command += ["-s", f"CLOSESPIDER_TIMEOUT={max(1, int(ledger.budget.seconds))}"]
            subprocess.run(command, capture_output=True, timeout=ledger.budget.seconds + 30)
            lines = out.read_text().splitlines() if out.exists() else []
            for line in lines:
                seen = json.loads(line)
                ledger.record_digest(seen["path"], seen["status"], seen["sha256"], seen["kind"])
        ledger.notes.append("Scrapy default settings (runspider: ROBOTSTXT_OBEY off, 16 "
                            "concurrent requests, its own retries)")  # fmt: skip


@dataclass
class PythonRequests(Adversary):
    user_agent: str | None = None  # None: requests' own

    def run(self, base_url: str, ledger: Ledger) -> None:
        with requests.Session() as session:
            if self.user_agent:
                session.headers["User-Agent"] = self.user_agent
            for url in _urls(base_url, ARTWORK_COUNT):
                if ledger.done():
                    break
                answer = session.get(url, timeout=15)
                ledger.record(_path(url), answer.status_code, answer.content,
                              {k.lower(): v for k, v in answer.headers.items()})  # fmt: skip
        ledger.notes.append(f"User-Agent: {self.user_agent or requests.utils.default_user_agent()}")


@dataclass
class GoHttpClient(Adversary):
    def run(self, base_url: str, ledger: Ledger) -> None:
        client = RawClient(base_url, ledger)
        try:
            for url in _urls(base_url, ARTWORK_COUNT):
                if ledger.done():
                    break
                client.get(_path(url), GO_HTTP_CLIENT)
        finally:
            client.close()
        ledger.notes.append("Go net/http's default header set (User-Agent, Accept-Encoding), "
                            "sent from Python: no Go toolchain here")  # fmt: skip


def adversaries() -> list[Adversary]:
    return [
        Curl("curl", THREAT, NAIVE, "real curl, URL globbing /images/[1-300].png"),
        PythonRequests("python-requests", THREAT, NAIVE, "requests.Session, its own UA"),
        Scrapy("scrapy", THREAT, NAIVE, "real `scrapy runspider` with a 10-line spider"),
        Wget("wget", THREAT, NAIVE, "real wget -i with the 300 image URLs"),
        GoHttpClient("go-http-client", THREAT, NAIVE, "Go's default headers and UA"),
    ]
