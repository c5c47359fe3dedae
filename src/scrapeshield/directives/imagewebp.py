"""XMP in a WebP file: the `XMP ` chunk at the end, its flag in the `VP8X` header.

The WebP container (RFC 9649) puts metadata after the image data and announces it in the
extended header `VP8X`; a simple file (one `VP8 ` or `VP8L` chunk) first gets a `VP8X` (canvas
size and alpha read from the bitstream header). So the edit is in two places: the header (RIFF
size, `VP8X`) and a tail appended after the last byte. Because the tail lands where the body
ends, the file is edited only when the response's Content-Length equals the RIFF size: a
streamed or truncated body passes untouched. A file that already carries XMP passes untouched
too (its packet is at the end, past what is buffered: merging it would mean holding the image).
"""

from __future__ import annotations

import struct

from scrapeshield.directives.imagefile import MORE, PASS, Buffer, Builder, Edit, Plan

_VP8X_XMP = 0x04
_VP8X_ALPHA = 0x10
_VP8X_ANIMATION = 0x02


def _chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def _canvas(kind: bytes, data: bytes) -> tuple[int, int, bool] | None:
    """Width, height and alpha of a simple file's bitstream (None if unreadable)."""
    if kind == b"VP8L" and len(data) >= 5 and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    if kind == b"VP8 " and len(data) >= 10 and data[3:6] == b"\x9d\x01\x2a" and not data[0] & 1:
        width, height = struct.unpack("<HH", data[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    return None


def plan_webp(buf: Buffer, build: Builder, length: int | None = None) -> Plan:
    if len(buf) < 30:
        return MORE if length is None or length >= 30 else PASS
    riff, size, webp = struct.unpack("<4sI4s", buf[:12])
    if riff != b"RIFF" or webp != b"WEBP" or length is None or size + 8 != length or size % 2:
        return PASS  # not WebP, or a body whose end we cannot trust to append to
    kind, chunk_size = struct.unpack("<4sI", buf[12:20])
    packet = build(None)
    if packet is None:
        return PASS
    tail = _chunk(b"XMP ", packet)
    if kind == b"VP8X":
        if chunk_size != 10:
            return PASS
        flags = buf[20]
        if flags & _VP8X_XMP:
            return PASS
        vp8x = bytes([flags | _VP8X_XMP]) + bytes(buf[21:30])
        head = b"RIFF" + struct.pack("<I", size + len(tail)) + b"WEBP"
        return Edit(head + _chunk(b"VP8X", vp8x), 30, tail)
    if kind not in (b"VP8 ", b"VP8L"):
        return PASS
    if len(buf) < 20 + min(chunk_size, 10):
        return MORE
    canvas = _canvas(kind, bytes(buf[20:30]))
    if canvas is None or 20 + chunk_size + (chunk_size % 2) != length:
        return PASS  # not one simple image chunk filling the file
    width, height, alpha = canvas
    flags = _VP8X_XMP | (_VP8X_ALPHA if alpha else 0)
    vp8x = struct.pack("<I", flags) + (width - 1).to_bytes(3, "little")
    vp8x += (height - 1).to_bytes(3, "little")
    header = _chunk(b"VP8X", vp8x)
    head = b"RIFF" + struct.pack("<I", size + len(header) + len(tail)) + b"WEBP" + header
    return Edit(head, 12, tail)
