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
