"""Regenerate the upload fixtures: python tests/assets/uploads/generate.py (deterministic)."""

from __future__ import annotations

import math
import struct
import wave
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent


def tone() -> None:
    """tone.wav: 0.5 s of a 440 Hz sine, 8 kHz mono 16-bit."""
    rate = 8000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate))) for n in range(rate // 2)
    )
    with wave.open(str(HERE / "tone.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


def drawing() -> None:
    """drawing.png (800×600) and photo.jpg (640×480)."""
    image = Image.new("RGB", (800, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 100, 700, 500), outline="navy", width=12)
    draw.ellipse((250, 150, 550, 450), fill="orange")
    image.save(HERE / "drawing.png", optimize=True)
    image.resize((640, 480)).save(HERE / "photo.jpg", quality=70)


def essay() -> None:
    """essay.pdf: one A4 page (WeasyPrint)."""
    from weasyprint import HTML

    HTML(string="<h1>My essay</h1><p>Evidence of persuasive writing.</p>").write_pdf(HERE / "essay.pdf")
    (HERE / "misleading-song.mp3").write_bytes((HERE / "essay.pdf").read_bytes())


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb() -> None:
    """bomb.png: a 74-byte PNG whose header claims 30000×30000 pixels (900 megapixels)."""
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")
    (HERE / "bomb.png").write_bytes(png)


def texts() -> None:
    (HERE / "story.txt").write_text(
        "The Lighthouse Keeper\n\nOnce, on a rock at the edge of the sea, lived a keeper "
        "who counted ships — “seven today”, she wrote.\n",
        encoding="utf-8",
    )
    (HERE / "story.md").write_text("# The Lighthouse Keeper\n\n*A short story.*\n", encoding="utf-8")
    (HERE / "empty.txt").write_bytes(b"")
    (HERE / "passwd.txt").write_text("root:x:0:0:root:/root:/bin/sh\n", encoding="utf-8")
    (HERE / "page.html").write_text(
        "<!DOCTYPE html><html><script>alert(document.cookie)</script></html>\n", encoding="utf-8"
    )
    (HERE / "binary-notes.txt").write_bytes(b"notes\x00\x01\x02 not really text")


if __name__ == "__main__":
    tone()
    drawing()
    essay()
    bomb()
    texts()
