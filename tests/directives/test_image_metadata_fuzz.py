"""Malformed, truncated and oddly split image streams: the rewriter never makes them worse.

For every input: the output is the input untouched, or the input with our XMP inserted in its
header (the bytes after the edit are the input's own); an input Pillow decodes still decodes to
the same pixels; the Content-Length sent matches the body; and the result does not depend on
where the stream was split.
"""

from __future__ import annotations

import io
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from scrapeshield.directives.imagefile import JPEG_XMP_NS, PLANNERS, PNG_XMP_KEYWORD, Edit
from scrapeshield.directives.images import ImageRewriter
from scrapeshield.directives.imagewebp import plan_webp
from scrapeshield.directives.xmp import RightsFields
from tests.directives.images_fixture import PLUS, make

SIGNATURE = {
    "image/png": b"iTXt" + PNG_XMP_KEYWORD + b"\x00",
    "image/jpeg": JPEG_XMP_NS,
    "image/webp": b"XMP ",
}
FIELDS = RightsFields(PLUS + "DMI-PROHIBITED-AIMLTRAINING", 1, web_statement="https://a.example/t")
_EXISTING = ImageRewriter(None, FIELDS, 1).build(None)
assert _EXISTING is not None
SAMPLES = {
    "image/png": [make("PNG", 8), make("PNG", 40)],
    "image/jpeg": [make("JPEG", 8), make("JPEG", 40, exif=True)],
}
# One of each already carrying a packet (ours from another site, say): merged, not duplicated.
_png, _jpeg = SAMPLES["image/png"][0], SAMPLES["image/jpeg"][0]
for _media, _plain in (("image/png", _png), ("image/jpeg", _jpeg)):
    _edit = PLANNERS[_media](_plain, lambda _: _EXISTING)
    assert isinstance(_edit, Edit)
    SAMPLES[_media].append(_edit.head + _plain[_edit.consumed :])
# WebP: simple lossy (VP8), simple lossless with alpha (VP8L), extended (VP8X + ALPH), and one
# already carrying XMP (passed untouched: its packet is at the end).
SAMPLES["image/webp"] = [
    make("WEBP", 24),
    make("WEBP", 24, mode="RGBA", lossless=True),
    make("WEBP", 24, mode="RGBA"),
    make("WEBP", 24, xmp=_EXISTING),
]


def planner(media: str, length: int) -> Any:
    return partial(plan_webp, length=length) if media == "image/webp" else PLANNERS[media]


def decoded(data: bytes) -> bytes | None:
    try:
        image = Image.open(io.BytesIO(data))
        return image.convert("RGB").tobytes()
    except Exception:
        return None


async def run(media: str, data: bytes, cuts: list[int], lookahead: int) -> tuple[Any, bytes]:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    rewriter = ImageRewriter(planner(media, len(data)), FIELDS, lookahead)
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(data)).encode())]
    await rewriter.start({"type": "http.response.start", "status": 200, "headers": headers}, send)
    bounds = [0, *sorted(set(cuts)), len(data)]
    for i in range(len(bounds) - 1):
        more = i < len(bounds) - 2
        chunk = data[bounds[i] : bounds[i + 1]]
        await rewriter.body({"type": "http.response.body", "body": chunk, "more_body": more}, send)
    assert sent[0]["type"] == "http.response.start"
    assert sent[-1]["more_body"] is False
    return sent[0], b"".join(m["body"] for m in sent[1:])


mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(
        st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4)
    ),
    st.tuples(st.just("none"), st.just(0.0)),
)


def mutate(data: bytes, kind: str, how: Any) -> bytes:
    if kind == "truncate":
        return data[: int(len(data) * how)]
    if kind == "flip":
        out = bytearray(data)
        for where, value in how:
            out[min(int(len(out) * where), len(out) - 1)] = value
        return bytes(out)
    return data


@settings(max_examples=450, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    media=st.sampled_from(sorted(SAMPLES)),
    index=st.integers(0, 3),
    change=mutation,
    cuts=st.lists(st.floats(0, 1), max_size=6),
    lookahead=st.sampled_from([1024, 262_144]),
)
async def test_never_worse_than_the_input(
    media: str, index: int, change: Any, cuts: list[float], lookahead: int
) -> None:
    data = mutate(SAMPLES[media][index % len(SAMPLES[media])], *change)
    positions = [int(len(data) * c) for c in cuts]
    start, body = await run(media, data, positions, lookahead)
    headers = dict(start["headers"])
    assert headers.get(b"content-length", str(len(body)).encode()) == str(len(body)).encode()
    if body != data:
        plan = planner(media, len(data))(data, ImageRewriter(None, FIELDS, lookahead).build)
        assert isinstance(plan, Edit)  # only a header we could read is ever edited
        assert body == plan.head + data[plan.consumed :] + plan.tail
        # merged, never a second packet (a damaged one the input had no longer reads as XMP)
        assert body.count(SIGNATURE[media]) == 1
        before = decoded(data)
        if before is not None:
            assert decoded(body) == before
    # Where the stream was split does not matter (within the look-ahead).
    _, whole = await run(media, data, [], lookahead)
    if len(data) <= lookahead:
        assert body == whole
