"""Regenerate the hostile upload fixtures (deterministic):
python tests/assets/hostile/uploads/generate.py, from the repository root with the venv."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

HERE = Path(__file__).parent
UPLOADS = HERE.parent.parent / "uploads"
SCRIPT = b"<script>alert(document.domain)</script>"
HTML = b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>\n"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)">'
    + SCRIPT
    + b"</svg>\n"
)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def polyglots() -> None:
    # GIF and JavaScript at once: the logical screen width is the two bytes "/*" (10799 px), so
    # "GIF89a/* ...binary... */=alert(document.domain);" parses as a script.
    gif = io.BytesIO()
    Image.new("P", (10799, 1)).save(gif, format="GIF", comment=HTML)
    data = gif.getvalue()
    assert data[6:8] == b"/*" and b"*/" not in data
    (HERE / "gif-js-polyglot.gif").write_bytes(data + b"*/=alert(document.domain);//" + HTML)

    png = io.BytesIO()
    info = PngInfo()
    info.add_text("Comment", HTML.decode())
    Image.new("RGB", (16, 12), (200, 30, 30)).save(png, format="PNG", pnginfo=info)
    (HERE / "png-html-polyglot.png").write_bytes(png.getvalue() + HTML)

    jpeg = io.BytesIO()
    Image.new("RGB", (16, 12), (30, 30, 200)).save(jpeg, format="JPEG", comment=SCRIPT)
    (HERE / "jpeg-script-comment.jpg").write_bytes(jpeg.getvalue())

    pdf = (UPLOADS / "essay.pdf").read_bytes()
    (HERE / "pdf-html-polyglot.pdf").write_bytes(pdf + b"\n" + HTML)


def markup() -> None:
    (HERE / "svg-script.svg").write_bytes(SVG)
    (HERE / "svg-bom-script.txt").write_bytes(b"\xef\xbb\xbf" + SVG)
    (HERE / "svg-doctype-xxe.txt").write_bytes(
        b'<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>\n'
    )
    (HERE / "html-utf16.mp3").write_bytes(HTML.decode().encode("utf-16"))


def bombs() -> None:
    ihdr = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    (HERE / "bomb-50000x50000.png").write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )

    def gif(screen: tuple[int, int], frame: tuple[int, int]) -> bytes:
        head = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
        image = b"\x2c" + struct.pack("<HHHHB", 0, 0, *frame, 0) + b"\x02\x02\x44\x01\x00"
        return head + image + b"\x3b"

    (HERE / "bomb-65535x65535.gif").write_bytes(gif((65535, 65535), (65535, 65535)))
    # A 1×1 logical screen whose first frame claims 65535×65535 pixels.
    (HERE / "bomb-frame-65535x65535.gif").write_bytes(gif((1, 1), (65535, 65535)))

    jpeg = io.BytesIO()
    Image.new("L", (8, 8)).save(jpeg, format="JPEG")
    data = bytearray(jpeg.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65500, 65500)
    (HERE / "bomb-65500x65500.jpg").write_bytes(bytes(data))

    webp = io.BytesIO()
    Image.new("RGB", (16, 16)).save(webp, format="WEBP", lossless=True)
    data = bytearray(webp.getvalue())
    at = data.find(b"VP8L") + 8  # the signature byte, then 14 bits width-1, 14 bits height-1
    rest = int.from_bytes(data[at + 1 : at + 5], "little") & ~((1 << 28) - 1)
    data[at + 1 : at + 5] = ((16383 - 1) | (16383 - 1) << 14 | rest).to_bytes(4, "little")
    (HERE / "bomb-16383x16383.webp").write_bytes(bytes(data))


def confusion() -> None:
    # A PNG signature in front of what Pillow's PhotoCD plugin reads ("PCD_" at 2048): Pillow
    # opens it as a 768×512 PhotoCD image when it is allowed to try every plugin.
    (HERE / "png-signature-photocd.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + b"\x00" * (2048 - 8) + b"PCD_IPI" + b"\x00" * 2048
    )


if __name__ == "__main__":
    polyglots()
    markup()
    bombs()
    confusion()
