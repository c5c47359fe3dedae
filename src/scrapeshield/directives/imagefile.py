"""Where an XMP packet goes in a PNG or JPEG, and the bytes that put it there; no pixel is touched.

Both planners read only the file's header (the chunks before the first PNG `IDAT`, the JPEG
marker segments before the first non-APPn one) from the start of the body, and answer:
- `MORE`: the header is not complete yet (the caller buffers more, up to its bound);
- `PASS`: not a file we can safely edit (wrong signature, a bad CRC or length, two XMP
  packets, a packet that does not parse, no room): the caller sends the body untouched;
- an `Edit`: `head` replaces the first `consumed` bytes; every later byte is sent unchanged
  (then `tail`, if any: WebP, directives/imagewebp.py).

PNG: an `iTXt` chunk with keyword `XML:com.adobe.xmp` (PNG 3rd edition, XMP part 3), uncompressed,
placed just before the first `IDAT`, or in place of an existing one found before it.
JPEG: an APP1 segment `http://ns.adobe.com/xap/1.0/\\0` + packet (XMP part 3), placed after the
leading JFIF APP0 / Exif APP1 segments, or in place of an existing one.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Final, Literal, NamedTuple


class Edit(NamedTuple):
    head: bytes
    consumed: int
    tail: bytes = b""  # appended after the body's last byte (WebP's XMP chunk)


MORE: Final = "more"
PASS: Final = "pass"  # noqa: S105 (a plan, not a password)
Plan = Edit | Literal["more", "pass"]
#: The body's first bytes (a memoryview: the planners copy only the header pieces they read).
Buffer = bytes | memoryview
#: The packet to write, given the one the file already has (None: it has none); None: give up.
Builder = Callable[[bytes | None], bytes | None]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
JPEG_XMP_NS = b"http://ns.adobe.com/xap/1.0/\x00"
_MAX_PNG_CHUNK = 2**31 - 1  # PNG: lengths above this are invalid
_MAX_JPEG_PAYLOAD = 65_533  # a segment length counts its own 2 bytes, max 0xFFFF
_MAX_INFLATED_XMP = 1 << 20


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_xmp_chunk(packet: bytes) -> bytes:
    """iTXt: keyword, NUL, compression flag 0, method 0, empty language and translated keyword."""
    return png_chunk(b"iTXt", PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet)


def _itxt_text(data: bytes) -> bytes | None:
    """The text of an iTXt chunk (inflated if compressed, bounded), None if malformed."""
    parts = data.split(b"\x00", 1)
    if len(parts) != 2 or len(parts[1]) < 2:
        return None
    flag, method, rest = parts[1][0], parts[1][1], parts[1][2:]
    fields = rest.split(b"\x00", 2)  # language tag, translated keyword, text
    if len(fields) != 3:
        return None
    text = fields[2]
    if flag == 0:
        return text
    if flag != 1 or method != 0:
        return None
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(text, _MAX_INFLATED_XMP)
    except zlib.error:
        return None
    return out if not inflater.unconsumed_tail and inflater.eof else None


def plan_png(buf: Buffer, build: Builder) -> Plan:
    if len(buf) < len(PNG_SIGNATURE):
        return MORE if PNG_SIGNATURE.startswith(bytes(buf)) else PASS
    if bytes(buf[:8]) != PNG_SIGNATURE:
        return PASS
    pos, existing = len(PNG_SIGNATURE), None
    while True:
        if pos + 8 > len(buf):
            return MORE
        length, kind = struct.unpack(">I4s", buf[pos : pos + 8])
        if length > _MAX_PNG_CHUNK or not kind.isalpha():
            return PASS
        if pos == len(PNG_SIGNATURE) and kind != b"IHDR":
            return PASS
        if kind in (b"IDAT", b"IEND"):
            break
        end = pos + 12 + length
        if end > len(buf):
            return MORE
        data = buf[pos + 8 : pos + 8 + length]
        if zlib.crc32(data, zlib.crc32(kind)) != struct.unpack(">I", buf[end - 4 : end])[0]:
            return PASS  # damaged already: not ours to touch
        if kind == b"iTXt" and bytes(data[:18]) == PNG_XMP_KEYWORD + b"\x00":
            if existing is not None:
                return PASS  # two packets: which one a reader believes is not ours to decide
            existing = (pos, end, _itxt_text(bytes(data)))
            if existing[2] is None:
                return PASS
        pos = end
    if kind == b"IEND" or pos == len(PNG_SIGNATURE):
        return PASS  # no image data: leave such a file alone
    packet = build(existing[2] if existing else None)
    if packet is None:
        return PASS
    chunk = png_xmp_chunk(packet)
    if existing is None:
        return Edit(bytes(buf[:pos]) + chunk, pos)
    start, end, _ = existing
    return Edit(bytes(buf[:start]) + chunk + bytes(buf[end:pos]), pos)


def _leading(marker: int, payload: bytes) -> bool:
    """JFIF APP0 and Exif APP1 come first (JFIF and Exif require it); XMP goes after them."""
    return marker == 0xE0 or (marker == 0xE1 and payload.startswith(b"Exif\x00"))


def plan_jpeg(buf: Buffer, build: Builder) -> Plan:
    if len(buf) < 2:
        return MORE if b"\xff\xd8".startswith(bytes(buf)) else PASS
    if bytes(buf[:2]) != b"\xff\xd8":
        return PASS
    pos, insert, leading, existing = 2, 2, True, None
    while True:
        if pos + 2 > len(buf):
            return MORE
        if buf[pos] != 0xFF:
            return PASS
        marker = buf[pos + 1]
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            break  # DQT, SOF, DHT, SOS...: the header area ends here
        if pos + 4 > len(buf):
            return MORE
        length = struct.unpack(">H", buf[pos + 2 : pos + 4])[0]
        if length < 2:
            return PASS
        end = pos + 2 + length
        if end > len(buf):
            return MORE
        payload = bytes(buf[pos + 4 : min(end, pos + 4 + len(JPEG_XMP_NS))])
        if marker == 0xE1 and payload == JPEG_XMP_NS:
            if existing is not None:
                return PASS
            existing = (pos, end, bytes(buf[pos + 4 + len(JPEG_XMP_NS) : end]))
        leading = leading and _leading(marker, payload)
        if leading:
            insert = end
        pos = end
    if marker in (0xD9, 0xFF) or not (0xC0 <= marker <= 0xFE):
        return PASS  # EOI, fill bytes, or a marker that cannot follow the header
    packet = build(existing[2] if existing else None)
    if packet is None or len(JPEG_XMP_NS) + len(packet) > _MAX_JPEG_PAYLOAD:
        return PASS
    segment = b"\xff\xe1" + struct.pack(">H", 2 + len(JPEG_XMP_NS) + len(packet))
    segment += JPEG_XMP_NS + packet
    if existing is None:
        return Edit(bytes(buf[:insert]) + segment + bytes(buf[insert:pos]), pos)
    start, end, _ = existing
    return Edit(bytes(buf[:start]) + segment + bytes(buf[end:pos]), pos)


PLANNERS: dict[str, Callable[[Buffer, Builder], Plan]] = {
    "image/png": plan_png,
    "image/apng": plan_png,
    "image/jpeg": plan_jpeg,
    "image/jpg": plan_jpeg,
    "image/pjpeg": plan_jpeg,
}
