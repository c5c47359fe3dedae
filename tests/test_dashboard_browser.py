"""The dashboard in Debian's Chromium after a scripted attack on the demo (a real server, a
real Redis): the numbers on the pages match the store, unban works through the browser's own
CSRF-protected form, the live tail shows a new event, and no CSP violation is reported.

SCRAPESHIELD_SCREENSHOTS=docs/img .venv/bin/pytest tests/test_dashboard_browser.py -k asyncio
refreshes the screenshots shown in docs/dashboard.md.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from scrapeshield.blocklog import summarise
from scrapeshield.demo.app import DASHBOARD_PATH, TRAP_PATH, create_app
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield
from tests.browsers import chrome, launched_chromium
from tests.operators_app import CHALLENGE_KEY, TOKEN, stored_events
from tests.servers import LOOPS, redis_store_settings, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]
T = TypeVar("T")

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36"
)
BANNED, TRAPPED, LATE = "198.51.100.50", "198.51.100.40", "198.51.100.60"
TABLE = """(id) => Object.fromEntries([...document.querySelectorAll(`#${id} tr[data-${
    id === 'by-action' ? 'action' : id === 'top-rules' ? 'rule' : 'client'}]`)]
    .map(row => [row.dataset.action || row.dataset.rule || row.dataset.client,
                 Number(row.querySelector('td.num').textContent)]))"""


def in_thread(work: Coroutine[Any, Any, T]) -> T:
    """Run store work on a loop of its own (sync Playwright keeps one running in this thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result(timeout=30)


@pytest.fixture
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def attack(client: httpx.Client) -> Counter[str]:
    """Five attackers, each from its own address (through the trusted proxy): an AI crawler, a
    scraping library, a headless browser, a trap follower and a banned client."""
    statuses: Counter[str] = Counter()

    def get(ip: str, path: str, headers: dict[str, str]) -> None:
        response = client.get(path, headers={**headers, "X-Forwarded-For": ip})
        statuses[f"{ip} {response.status_code}"] += 1

    for n in range(12):
        get("198.51.100.10", f"/artworks/{n + 1}", {"User-Agent": GPTBOT})
    for n in range(7):
        get("198.51.100.20", f"/images/{n + 1}.png", {"User-Agent": "python-requests/2.32.3"})
    for n in range(4):
        get("198.51.100.30", f"/artworks/{n + 1}", {"User-Agent": HEADLESS, "Accept": "text/html"})
    get(TRAPPED, TRAP_PATH, chrome())
    for n in range(3):
        get(TRAPPED, f"/artworks/{n + 1}", chrome())
    for n in range(5):
        get(BANNED, f"/artworks/{n + 1}", chrome())
    return statuses


@pytest.mark.parametrize("loop", LOOPS)
def test_the_dashboard_shows_what_the_store_holds(
    chromium: Any, loop: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("SCRAPESHIELD_SCREENSHOTS") or tmp_path)
    settings = Settings(
        site_name="Demo Art Gallery",
        terms_url="/terms",
        directives={"trap_paths": [TRAP_PATH]},
        challenge={"secret_keys": [CHALLENGE_KEY]},
        trusted_proxies=["127.0.0.1"],
        **redis_store_settings(redis_url, redis_prefix),
        metrics={"enabled": True},
        dashboard={"tokens": [TOKEN], "tail_interval": 0.5},
    )
    operator = Shield(settings)

    async def ban_one() -> None:
        await operator.ban(BANNED, 3600, reason="reported by the artist")
        await operator.aclose()

    in_thread(ban_one())
    app = create_app(settings)
    base = DASHBOARD_PATH
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        statuses = attack(client)
        assert statuses[f"{BANNED} 403"] == 5
        assert statuses["198.51.100.10 403"] == 12
        events = in_thread(stored_events(settings))
        summary = summarise(events)
        assert summary["total"] >= 30

        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(f"{server.url}{base}/")
        assert page.url.endswith(f"{base}/login")  # not signed in: the sign-in page
        page.fill("input[name=token]", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("#timeline")

        # Overview: totals, actions, top rules and top clients are the store's.
        assert int(page.text_content("#total") or "0") == summary["total"]
        assert page.evaluate(TABLE, "by-action") == summary["by_action"]
        assert page.evaluate(TABLE, "top-rules") == summary["by_rule"]
        assert page.evaluate(TABLE, "top-clients") == summary["by_client"]
        bars = page.eval_on_selector_all(
            "#timeline rect", "rs => rs.reduce((n, r) => n + Number(r.dataset.count), 0)"
        )
        assert bars == summary["total"]
        page.screenshot(path=str(shots / "dashboard-overview.png"), full_page=True)

        # Drill-down: the banned client's events, ban and remaining time.
        page.click(f'#top-clients a:text-is("{BANNED}")')
        page.wait_for_selector("#client-key")
        mine = [e for e in events if e["client_key"] == BANNED]
        assert int(page.text_content("#client-total") or "0") == len(mine)
        assert page.locator("#events tbody tr").count() == len(mine)
        ban_text = page.text_content("#ban") or ""
        assert "ban/manual" in ban_text
        assert "reported by the artist" in ban_text
        assert "left" in ban_text
        page.screenshot(path=str(shots / "dashboard-client.png"), full_page=True)

        # Bans and trap flags; unban through the page's own form (its CSRF token).
        page.click("nav a:text-is('Bans & traps')")
        page.wait_for_selector("#bans")
        assert page.locator(f'#bans tr[data-client="{BANNED}"]').count() == 1
        assert page.locator(f'#traps tr[data-client="{TRAPPED}"]').count() == 1
        page.screenshot(path=str(shots / "dashboard-bans.png"), full_page=True)
        page.click(f'#bans tr[data-client="{BANNED}"] button')
        page.wait_for_selector("#notice")
        assert f"{BANNED}: ban lifted" in (page.text_content("#notice") or "")
        assert page.locator(f'#bans tr[data-client="{BANNED}"]').count() == 0
        again = client.get("/artworks/1", headers={**chrome(), "X-Forwarded-For": BANNED})
        assert again.status_code == 200

        # Live tail: a new refusal appears without a reload.
        page.click("nav a:text-is('Live tail')")
        page.wait_for_selector("#tail-status")
        client.get("/artworks/3", headers={"User-Agent": GPTBOT, "X-Forwarded-For": LATE})
        page.wait_for_selector(f'#events tbody a:text-is("{LATE}")', timeout=10_000)
        page.screenshot(path=str(shots / "dashboard-tail.png"))
        context.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
