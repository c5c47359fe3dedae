"""Images for the image-metadata tests: made by Pillow, some given XMP and Exif by exiftool."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

from PIL import Image

PLUS = "http://ns.useplus.org/ldf/vocab/"


def make(fmt: str, size: int = 48, exif: bool = False, mode: str = "RGB", **options: Any) -> bytes:
    """A small picture (a gradient, translucent in RGBA) in `fmt`, with Pillow's `options`."""
    image = Image.new(mode, (size, size))
    pixels = [
        ((x * 5) % 256, (y * 7) % 256, (x * y) % 256, 128) for y in range(size) for x in range(size)
    ]
    image.putdata([p[: len(mode)] for p in pixels])
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010E] = "exif description"  # ImageDescription
        options["exif"] = tags
    image.save(out, fmt, **options)
    return out.getvalue()


def with_exiftool(data: bytes, suffix: str, tmp: Path, *args: str) -> bytes:
    """`data` after `exiftool args...` (e.g. an existing XMP packet, as an editor writes it)."""
    path = tmp / f"input{suffix}"
    path.write_bytes(data)
    subprocess.run(["exiftool", "-q", "-overwrite_original", *args, str(path)], check=True)
    return path.read_bytes()


def exiftool(data: bytes, suffix: str, tmp: Path) -> dict[str, str]:
    """Every tag exiftool reads, as `Group:Name` -> value (`-a`: duplicates kept, suffixed)."""
    path = tmp / f"read{suffix}"
    path.write_bytes(data)
    out = subprocess.run(
        [
            "exiftool",
            "-a",
            "-G1",
            "-s",
            "-XMP:all",
            "-EXIF:ImageDescription",
            "-Warning",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        key = " ".join(key.split())
        while key in found:
            key += "+"
        found[key] = value.strip()
    return found


def pillow_xmp(data: bytes) -> dict[str, object]:
    """The first rdf:Description as Pillow's metadata API reads it (pixels decoded too)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    description = image.getxmp()["xmpmeta"]["RDF"]["Description"]
    return description if isinstance(description, dict) else {"all": description}
