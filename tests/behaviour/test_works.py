"""behaviour/works.py: `item_id` reads a path's work id as the `ITEM_ID` pattern finds it."""

from __future__ import annotations

import random

import pytest

from scrapeshield.behaviour.works import ITEM_ID, _tail_id, item_id


def _searched(path: str) -> int | None:
    match = ITEM_ID.search(path)
    return int(match.group(1)) if match else None


@pytest.mark.parametrize(
    "path",
    [
        "/artworks/123",
        "/artworks/123/",
        "/artworks/123//",
        "/images/0001.png",
        "/images/1.tar.gz",
        "/images/1.",
        "/images/.png",
        "/images/1.abcdefgh",
        "/images/1.abcdefghi",
        "/images/1.pn-g",
        "/images/1.pñg",
        "/artworks/123456789012",
        "/artworks/1234567890123",
        "/artworks/١٢٣",  # (Unicode digits: `\d` and `int` take them)
        "/artworks/7\n",
        "/artworks/7/\n",
        "/artworks/7\n\n",
        "/" + "a/" * 20 + "77",
        "/x" * 20 + "/12.webp/",
        "/",
        "",
        "7",
        "/about",
    ],
)
def test_item_id_is_what_the_pattern_finds(path: str) -> None:
    assert item_id(path) == _searched(path)


def test_item_id_agrees_with_the_pattern_on_random_paths() -> None:
    rng = random.Random(19)
    alphabet = "/0123456789.aZ\n٣é_-"
    for _ in range(20_000):
        path = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 48)))
        assert item_id(path) == _searched(path), path


def test_item_id_remembers_a_bounded_number_of_tails() -> None:
    """Paths come from clients: the memo of tails stays within its size, and a tail it let go
    is read again alike."""
    for i in range(6000):
        assert item_id(f"/artworks/{i}") == i
        assert item_id("/x" * 40 + f"/{i}.png") == i  # (only the tail is kept)
    info = _tail_id.cache_info()
    assert info.maxsize is not None
    assert info.currsize <= info.maxsize < 12_000
    assert item_id("/artworks/0") == 0
