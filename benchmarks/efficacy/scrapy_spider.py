"""The Scrapy adversary's spider (run by `scrapy runspider`, default settings): request every
original, write one JSON line per answer (path, status, SHA-256 of the body)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import scrapy

from benchmarks.efficacy.core import classify


class Originals(scrapy.Spider):
    name = "originals"

    def __init__(self, base: str, count: str, out: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base, self.count, self.out = base, int(count), out

    async def start(self) -> AsyncIterator[Any]:
        for number in range(1, self.count + 1):
            yield scrapy.Request(
                f"{self.base}/images/{number}.png", meta={"handle_httpstatus_all": True}
            )

    def parse(self, response: Any) -> None:
        body = bytes(response.body)
        seen = {
            "path": "/" + response.url.split("/", 3)[3],
            "status": response.status,
            "sha256": hashlib.sha256(body).hexdigest(),
            "kind": classify(response.status, body),
        }
        with open(self.out, "a", encoding="utf-8") as out:
            out.write(json.dumps(seen) + "\n")
