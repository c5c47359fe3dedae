"""axe-core (npm, installed by scripts/setup into .cache/node) finds nothing on the block,
throttle and challenge pages (and a failed check's), in English and Japanese, in a real
Chromium; nor on the challenge page as a browser without JavaScript shows it. (Before these
pages, axe found landmark-one-main and region, 4 nodes, on both the block and challenge page.)

axe runs with its default rules (WCAG 2 A/AA and best practices: landmarks, contrast, names,
`lang`). The test fails, never skips, when axe-core is missing: run `bash scripts/setup`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browsers import launched_chromium, person_user_agent
from tests.challenge.conftest import Served, gallery
from tests.pages.helpers import PAGES, TITLES, ByPath, page_settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]

AXE = Path(__file__).resolve().parents[2] / ".cache/node/node_modules/axe-core/axe.min.js"
LANGUAGES = {"en": "en-GB,en;q=0.9", "ja": "ja,en;q=0.8"}
NO_SUBMIT = "HTMLFormElement.prototype.submit = function () { window.__submitted = true; };"
DONE = {"en": "Done. Opening the page…", "ja": "確認が完了しました。ページを開いています…"}
RUN_AXE = """async () => {
  const result = await axe.run(document);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed ({AXE}); run: bash scripts/setup")
    return AXE.read_text("utf-8")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    settings = page_settings(pages={"contact_url": "mailto:help@example.org?subject={request_id}"})
    with gallery(settings, detectors=[ByPath()]) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def _violations(page: Any, axe: str) -> list[dict[str, Any]]:
    page.evaluate(axe)
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return found


def _context(browser: Any, language: str, **options: Any) -> Any:
    return browser.new_context(
        user_agent=person_user_agent(browser.version),
        extra_http_headers={"Accept-Language": LANGUAGES[language]},
        bypass_csp=True,  # to inject axe itself; the page's own CSP is tested elsewhere
        **options,
    )


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("name", sorted(PAGES))
def test_axe_finds_nothing(
    browser: Any, served: Served, axe_source: str, name: str, language: str
) -> None:
    context = _context(browser, language)
    try:
        page = context.new_page()
        # The work runs, its answer is not sent: the page stays while axe reads it.
        page.add_init_script(NO_SUBMIT)
        page.goto(served.url + PAGES[name], wait_until="load")
        assert page.locator("h1").inner_text() == TITLES[language][name]
        assert page.get_attribute("html", "lang") == language
        if name == "challenge":
            page.wait_for_function("() => window.__submitted === true", timeout=30_000)
            assert page.locator("#ss-status").inner_text() == DONE[language]
        assert _violations(page, axe_source) == []
    finally:
        context.close()


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_axe_finds_nothing_on_a_failed_check(
    browser: Any, served: Served, axe_source: str, language: str
) -> None:
    context = _context(browser, language)
    try:
        page = context.new_page()
        response = page.goto(served.url + "/.scrapeshield/challenge?wait=forged")
        assert response is not None
        assert response.status == 403
        assert page.get_attribute("html", "lang") == language
        assert _violations(page, axe_source) == []
    finally:
        context.close()


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_challenge_without_javascript_explains_the_wait(
    browser: Any, served: Served, axe_source: str, language: str
) -> None:
    """What a browser without JavaScript shows (its <noscript> parsed as content), checked
    with axe in a page that runs it; the wait is explained in words, with a link."""
    fetch = _context(browser, language, java_script_enabled=False)
    try:
        page = fetch.new_page()
        page.goto(served.url + PAGES["challenge"], wait_until="load")
        text = page.locator("main").inner_text()
        html = page.content()
    finally:
        fetch.close()
    assert ("JavaScript is turned off" if language == "en" else "JavaScriptが無効") in text
    assert "seconds" in text or "秒" in text
    context = _context(browser, language)
    try:
        page = context.new_page()
        # The page as such a browser renders it: <noscript> content is content, no scripts.
        static = html.replace("<noscript>", "").replace("</noscript>", "")
        page.set_content(static.replace('http-equiv="refresh"', 'data-refresh="x"'))
        violations = _violations(page, axe_source)
    finally:
        context.close()
    assert violations == []
