"""Generated badge images (SVG and PNG, one design) for credentials without an image of their
own.  Pure: plain text in, image bytes out; every text is escaped for XML and stripped of what
XML 1.0 cannot carry, so a credential's fields can never add markup to the image."""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

SIZE = 400
NAVY = "#1d3557"
GOLD = "#f4a261"
CREAM = "#fffaf0"
MAX_NAME_LINES = 4
MAX_ISSUER_CHARS = 24
NAME_FONT_SIZE = 28
ISSUER_FONT_SIZE = 16
NAME_CENTER_Y = 182
ISSUER_Y = 290
ISSUER_WIDTH_PX = 200
NAME_WIDTH_PX = 240  # the widest a line may be inside the inner circle
NAME_CHARS_PER_LINE = 16  # the SVG has no font metrics: wrap by characters
_LINE_HEIGHT = 34

# XML 1.0 §2.2 Char: anything outside it cannot be written at all (not even as a reference).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text: str | None) -> str:
    """``text`` on one line, with characters XML 1.0 forbids removed; ``""`` for ``None``."""
    return " ".join(_NOT_XML_CHAR.sub("", text or "").split())


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def wrap_name(
    name: str,
    *,
    fits: Callable[[str], bool] | None = None,
    width: int = NAME_CHARS_PER_LINE,
    max_lines: int = MAX_NAME_LINES,
) -> list[str]:
    """The achievement name in at most ``max_lines`` lines (the last one ends with "…" when the
    name is longer).  ``fits`` decides whether a line is short enough (font metrics, for the
    PNG); without it lines are cut at ``width`` characters.  Returns ``[]`` for an empty name.
    """
    words = clean_text(name).split(" ")
    if words == [""]:
        return []
    if fits is None:
        lines = textwrap.wrap(" ".join(words), width=width, break_long_words=True) or [""]
    else:
        lines = []
        current = ""
        for word in words:
            candidate = f"{current} {word}".strip()
            if fits(candidate):
                current = candidate
                continue
            if current:
                lines.append(current)
            current = word
            while not fits(current) and len(current) > 1:  # one word wider than the badge
                cut = len(current) - 1
                while cut > 1 and not fits(current[:cut]):
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = [*lines[: max_lines - 1], (last[:-1] if len(last) > 1 else last) + "…"]
    return lines


def badge_svg(achievement_name: str, issuer_name: str) -> bytes:
    """The badge as a standalone SVG document (UTF-8), with a ``<title>`` naming it.

    The result is well formed for any input and is ready for ``credentials.baking.bake_svg``.
    """
    name = clean_text(achievement_name) or "Achievement"
    issuer = _shorten(clean_text(issuer_name), MAX_ISSUER_CHARS)
    lines = wrap_name(name)
    top = NAME_CENTER_Y - (len(lines) - 1) * _LINE_HEIGHT / 2
    tspans = "".join(
        f'<tspan x="200" y="{top + i * _LINE_HEIGHT:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    title = escape(f"Badge: {name}" + (f", issued by {issuer}" if issuer else ""))
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" '
        'viewBox="0 0 400 400" role="img" aria-labelledby="badge-title">'
        f'<title id="badge-title">{title}</title>'
        f'<circle cx="200" cy="200" r="196" fill="{GOLD}"/>'
        f'<circle cx="200" cy="200" r="178" fill="{NAVY}"/>'
        f'<circle cx="200" cy="200" r="150" fill="none" stroke="{CREAM}" stroke-width="2"/>'
        f'<text fill="{CREAM}" font-family="DejaVu Sans, Verdana, sans-serif" '
        f'font-size="{NAME_FONT_SIZE}" font-weight="bold" text-anchor="middle" '
        f'dominant-baseline="middle">{tspans}</text>'
        f'<text x="200" y="{ISSUER_Y}" fill="{GOLD}" '
        'font-family="DejaVu Sans, Verdana, sans-serif" '
        f'font-size="{ISSUER_FONT_SIZE}" text-anchor="middle" dominant-baseline="middle">'
        f"{escape(issuer)}</text>"
        "</svg>"
    )
    return svg.encode("utf-8")


def badge_png(achievement_name: str, issuer_name: str) -> bytes:
    """The same badge drawn with Pillow as a 400×400 PNG (Pillow's built-in font: no files,
    no network).  Returns the PNG bytes, ready for ``credentials.baking.bake_png``."""
    name = clean_text(achievement_name) or "Achievement"
    issuer = _shorten(clean_text(issuer_name), MAX_ISSUER_CHARS)
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, SIZE - 4, SIZE - 4), fill=GOLD)
    draw.ellipse((22, 22, SIZE - 22, SIZE - 22), fill=NAVY)
    draw.ellipse((50, 50, SIZE - 50, SIZE - 50), outline=CREAM, width=2)
    name_font = ImageFont.load_default(size=NAME_FONT_SIZE)
    issuer_font = ImageFont.load_default(size=ISSUER_FONT_SIZE)
    lines = wrap_name(name, fits=lambda s: draw.textlength(s, font=name_font) <= NAME_WIDTH_PX)
    top = NAME_CENTER_Y - (len(lines) - 1) * _LINE_HEIGHT / 2
    for i, line in enumerate(lines):
        draw.text((SIZE / 2, top + i * _LINE_HEIGHT), line, font=name_font, fill=CREAM, anchor="mm")
    while issuer and draw.textlength(issuer, font=issuer_font) > ISSUER_WIDTH_PX:
        issuer = issuer[:-2].rstrip() + "…"
    draw.text((SIZE / 2, ISSUER_Y), issuer, font=issuer_font, fill=GOLD, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
