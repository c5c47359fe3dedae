"""MediaTypes: which responses get the opt-out headers; answers cached per value, bounded."""

from __future__ import annotations

from scrapeshield.directives.headers import MediaTypes


def test_matches_exact_and_wildcard_types_whatever_the_parameters_or_case() -> None:
    media = MediaTypes(["text/html", "image/*"])
    assert media.matches("text/html; charset=utf-8")
    assert media.matches("Text/HTML")
    assert media.matches("image/png")
    assert not media.matches("application/json")
    assert not media.matches("")
    assert media.matches("text/html; charset=utf-8")  # the cached answer is the same


def test_the_cache_stays_bounded_and_answers_stay_right_past_it() -> None:
    media = MediaTypes(["image/*"])
    for n in range(2000):
        assert media.matches(f"image/x-{n}")
        assert not media.matches(f"text/x-{n}")
    assert len(media._known) <= 256
