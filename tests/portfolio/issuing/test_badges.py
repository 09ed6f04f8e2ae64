"""The generated badge: one design as SVG and PNG, text escaped, ready to bake."""

from __future__ import annotations

import io

import defusedxml.ElementTree as ElementTree
import pytest
from PIL import Image

from credentials import baking
from portfolio.issuing import badges

SVG = "{http://www.w3.org/2000/svg}"
XSS = '<script>alert(1)</script>" onmouseover="alert(2)'


def _texts(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def test_svg_shows_the_achievement_and_issuer_and_names_itself() -> None:
    svg = badges.badge_svg("Teamwork", "Credfolio Demo School")
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Badge: Teamwork, issued by Credfolio Demo School"
    assert _texts(svg) == ["Teamwork", "Credfolio Demo School"]


def test_svg_escapes_markup_in_every_text() -> None:
    svg = badges.badge_svg(XSS, XSS)
    root = ElementTree.fromstring(svg)  # still well formed
    assert b"<script" not in svg
    assert root.find(f".//{SVG}script") is None
    assert [child.tag for child in root] == [
        f"{SVG}title",
        f"{SVG}circle",
        f"{SVG}circle",
        f"{SVG}circle",
        f"{SVG}text",
        f"{SVG}text",
    ]
    assert all(set(e.attrib) <= {"x", "y"} for e in root.iter(f"{SVG}tspan"))
    assert "<script>alert(1)</script>" in "".join(_texts(svg))  # shown as text, not markup


def test_svg_drops_characters_xml_cannot_carry() -> None:
    svg = badges.badge_svg("Team\x00work\x1b", "School\ufffe")
    assert _texts(svg) == ["Teamwork", "School"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Teamwork", ["Teamwork"]),
        ("Advanced collaborative songwriting", ["Advanced", "collaborative", "songwriting"]),
        ("", []),
        ("a " * 60, ["a a a a a a a a", "a a a a a a a a", "a a a a a a a a", "a a a a a a a …"]),
    ],
)
def test_names_are_wrapped_in_at_most_four_lines(name: str, expected: list[str]) -> None:
    assert badges.wrap_name(name) == expected


def test_a_word_wider_than_the_badge_is_split() -> None:
    lines = badges.wrap_name("x" * 30, fits=lambda line: len(line) <= 12)
    assert lines == ["x" * 12, "x" * 12, "x" * 6]


def test_png_is_a_400_pixel_badge_drawn_offline() -> None:
    png = badges.badge_png("Teamwork", "Credfolio Demo School")
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (400, 400))
    assert image.getpixel((0, 0))[3] == 0  # transparent corners: a round badge
    assert image.getpixel((200, 10))[:3] == (0xF4, 0xA2, 0x61)  # the gold ring


def test_png_with_a_long_hostile_name_still_renders() -> None:
    png = badges.badge_png(XSS * 5, "\x00" + "Issuer " * 20)
    assert Image.open(io.BytesIO(png)).size == (400, 400)


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_generated_badges_can_be_baked_and_unbaked(kind: str) -> None:
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "name": XSS}
    if kind == "svg":
        baked = baking.bake_svg(badges.badge_svg(XSS, XSS), credential)
    else:
        baked = baking.bake_png(badges.badge_png(XSS, XSS), credential)
    assert baking.sniff_image_type(baked) == kind
    assert baking.unbake(baked) == credential
