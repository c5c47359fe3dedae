"""Our own refusals carry no directive headers, and `noindex` only on the challenge page.

Through real uvicorn: the app's pages get the directive headers (`X-Robots-Tag: noai...`,
TDMRep...), a block/throttle/ban answer gets none of them and no `X-Robots-Tag` at all (it is
not a page of the site, and a throttled verified crawler must not be told to de-index it), and a
challenge page is `X-Robots-Tag: noindex` only.
"""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from scrapeshield import ScrapeShield, Settings
from tests.servers import serve

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
HTML = {
    "accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    "accept-language": "en-GB,en;q=0.9",
    "accept-encoding": "gzip, deflate, br",
    "host": "gallery.example",  # plain HTTP, not localhost: no Sec-Fetch-* expected
}


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"x-app", b"1")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"<html><head></head><body></body></html>"})


def test_refusals_carry_no_directives_and_only_challenges_say_noindex() -> None:
    settings = Settings(trusted_proxies=["127.0.0.1/32"], challenge={"secret_keys": ["k" * 32]})
    app = ScrapeShield(_app, settings=settings)
    with serve(app) as server, httpx.Client(base_url=server.url) as client:
        page = client.get(
            "/gallery", headers={**HTML, "user-agent": BROWSER, "x-forwarded-for": "198.51.100.1"}
        )
        assert page.status_code == 200
        directive_headers = {k for k in page.headers if k not in ("x-app", "content-length")}
        directive_headers -= {"content-type", "date", "server"}
        # RateLimit fields belong on our refusals too (issue 3); they are not directives.
        directive_headers = {h for h in directive_headers if "ratelimit" not in h}
        assert "x-robots-tag" in directive_headers  # the app's page is told noai

        blocked = client.get(
            "/gallery",
            headers={**HTML, "user-agent": "GPTBot/1.2", "x-forwarded-for": "198.51.100.2"},
        )
        assert blocked.status_code == 403
        assert "x-robots-tag" not in blocked.headers
        for name in directive_headers - {"content-type"}:
            assert name not in blocked.headers, name

        doubtful = {**HTML, "user-agent": "Mozilla/5.0", "x-forwarded-for": "198.51.100.3"}
        challenged = client.get("/gallery", headers=doubtful)
        assert challenged.status_code == 403
        assert "/.scrapeshield/challenge" in challenged.text  # the page, not a refusal
        assert challenged.headers.get_list("x-robots-tag") == ["noindex"]
        for name in directive_headers - {"x-robots-tag"}:
            assert name not in challenged.headers, name
