"""Make the decoy's built-in placeholder images once (needs Pillow, in the dev extra).

    .venv/bin/python scripts/make_decoy_placeholders.py

A 640x480 picture of soft colour fields, blurred: it decodes like any artwork image and has a
plausible size, but holds nothing of value. Written to src/scrapeshield/deterrents/data/ in
every format an image route may be asked for; the files are committed, so the library itself
never needs Pillow.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "src" / "scrapeshield" / "deterrents" / "data"
FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP", "avif": "AVIF"}


def picture() -> Image.Image:
    rng = random.Random(20261203)
    image = Image.new("RGB", (640, 480), (196, 188, 176))
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x, y = rng.randrange(-100, 640), rng.randrange(-100, 480)
        w, h = rng.randrange(120, 360), rng.randrange(90, 300)
        colour = tuple(rng.randrange(70, 230) for _ in range(3))
        draw.ellipse((x, y, x + w, y + h), fill=colour)
    return image.filter(ImageFilter.GaussianBlur(48))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    image = picture()
    for ext, fmt in FORMATS.items():
        target = OUT / f"placeholder.{ext}"
        try:
            if fmt == "GIF":
                image.quantize(64).save(target, fmt)
            else:
                image.save(target, fmt, quality=40)
        except (KeyError, OSError) as exc:
            print(f"{ext}: not written ({exc})")
            continue
        print(f"{target.name}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
