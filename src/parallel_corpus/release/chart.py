"""The coverage chart of a release: documents per topic and language, as a PNG.

Drawn with Pillow's built-in bitmap font and saved without text chunks, so
the image holds no time and no software version: the same data gives the
same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

CELL_W, CELL_H, LABEL_W, HEADER_H = 56, 22, 260, 28


def coverage_png(path: Path, topics: Sequence[dict], languages: Sequence[str]) -> None:
    """A grid: one row per topic, one column per language, shaded by count."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=12) if hasattr(ImageFont, "load_default") else None
    rows = list(topics)
    most = max((t["languages"].get(l, 0) for t in rows for l in languages), default=0) or 1
    width = LABEL_W + CELL_W * len(languages) + 10
    height = HEADER_H + CELL_H * len(rows) + 10
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    for j, lang in enumerate(languages):
        draw.text((LABEL_W + j * CELL_W + CELL_W // 2 - 8, 8), lang, fill="black", font=font)
    for i, topic in enumerate(rows):
        y = HEADER_H + i * CELL_H
        label = topic["topic_id"] if len(topic["topic_id"]) <= 38 else topic["topic_id"][:35] + "..."
        draw.text((6, y + 5), label, fill="black", font=font)
        for j, lang in enumerate(languages):
            n = topic["languages"].get(lang, 0)
            shade = 255 - int(200 * n / most)
            x = LABEL_W + j * CELL_W
            draw.rectangle([x, y, x + CELL_W - 2, y + CELL_H - 2], fill=(shade, shade, 255) if n else (240, 240, 240), outline=(200, 200, 200))
            draw.text((x + CELL_W // 2 - 4, y + 5), str(n), fill="black" if shade > 120 else "white", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", optimize=False)
