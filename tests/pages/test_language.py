"""Accept-Language to the page's language: quality values, fallbacks, bounds."""

from __future__ import annotations

import pytest

from scrapeshield.pages.catalogue import negotiate, parse_accept_language

OFFERED = ("en", "ja", "pt-br")


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("ja,en;q=0.8", "ja"),
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        ("en;q=0.5, ja;q=0.9", "ja"),  # quality, not order
        ("fr-CH, fr;q=0.9, de;q=0.7", "en"),  # nothing offered: the default
        ("fr, ja;q=0.1", "ja"),
        ("ja;q=0, en", "en"),  # q=0: not acceptable
        ("pt-BR", "pt-br"),
        ("pt", "en"),  # a range names a language, not every variant of it
        ("*", "en"),
        ("", "en"),
        ("ja;q=abc, en;q=0.2", "en"),  # a malformed quality drops its entry
        ("ja;q=2", "en"),
        ("ja;level=1", "en"),
        ("<script>, ja", "ja"),
        ("x" * 10_000 + ",ja", "en"),  # only the first 512 characters are read
    ],
)
def test_the_language_a_request_asks_for(header: str, language: str) -> None:
    assert negotiate(header, OFFERED, "en") == language


def test_ties_keep_the_order_given_and_the_list_is_bounded() -> None:
    assert parse_accept_language("ja, en, de") == ["ja", "en", "de"]
    assert len(parse_accept_language(",".join(["en"] * 1000))) == 16


HOSTILE_ID = '<b id="x">&amp;\'</b>'


@pytest.mark.parametrize("name", ["block.html", "throttle.html", "unavailable.html", "failed.html"])
@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_cached_page_is_the_page_rendered(name: str, language: str) -> None:
    """The page cache (packaged templates) gives what rendering gives, hostile values too."""
    from scrapeshield.pages.render import render
    from scrapeshield.pages.settings import PagesSettings
    from scrapeshield.pages.site import Pages

    config = PagesSettings(contact_url="mailto:a@example.org?subject={request_id}")
    pages = Pages(config, site_name='Art "&" <Co>', terms_url="/terms?a=1&b=2")
    for request_id in ("0123456789abcdef", HOSTILE_ID, "x"):
        for retry_after in (None, 30):
            context = pages.context(language, request_id, 429)
            context.update(
                page=name,
                action="block",
                retry_after=retry_after,
                nonce=None,
                reason="too-early",
                retry_url='/a?b=1&c="2"',
            )
            cached = pages._render(name, context)
            assert cached == render(pages.env, name, context)
            assert HOSTILE_ID not in cached


def test_a_cached_challenge_page_is_the_page_rendered() -> None:
    from markupsafe import Markup

    from scrapeshield.pages.render import render, sample_context
    from scrapeshield.pages.settings import PagesSettings
    from scrapeshield.pages.site import Pages

    pages = Pages(PagesSettings(), site_name="Art")
    for n, wait in enumerate(("/c?wait=a&b", None, '/c?wait="x"')):
        context = {**sample_context("challenge.html"), **pages.context("ja", HOSTILE_ID, 403)}
        context.update(
            token=f"tok<{n}>", nonce=f"n{n}", wait_url=wait, config=Markup('{"a":"\\u003c"}')
        )
        assert pages._render("challenge.html", context) == render(
            pages.env, "challenge.html", context
        )
