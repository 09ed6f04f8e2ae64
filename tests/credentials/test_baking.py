"""Tests for credentials.baking: Open Badges 3.0 PNG and SVG baking."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as safe_et
import pytest

from credentials.baking import (
    MAX_IMAGE_BYTES,
    OB3_NAMESPACE,
    bake,
    bake_png,
    bake_svg,
    png_chunk_types,
    sniff_image_type,
    unbake,
    unbake_png,
    unbake_svg,
)
from credentials.errors import BakingError, MalformedInputError
from tests.conftest import load_json

HOSTILE = Path(__file__).parent.parent / "assets" / "hostile"
IMAGES = Path(__file__).parent.parent / "assets" / "images"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JWS = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6ZXhhbXBsZToxMjMifQ.c2lnbmF0dXJl"


@pytest.fixture
def png() -> bytes:
    return (IMAGES / "badge.png").read_bytes()


@pytest.fixture
def svg() -> bytes:
    return (IMAGES / "badge.svg").read_bytes()


@pytest.fixture
def credential() -> dict[str, Any]:
    return load_json("ob3/signed-examples/" + _first_signed_example())


def _first_signed_example() -> str:
    folder = Path(__file__).parent.parent / "assets" / "ob3" / "signed-examples"
    return sorted(p.name for p in folder.glob("*.json") if p.name != "DEMO-KEY.json")[0]


def hostile(name: str) -> bytes:
    return (HOSTILE / name).read_bytes()


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG by hand (independently of the module under test)."""
    assert data.startswith(PNG_SIGNATURE)
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def make_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def insert_after_ihdr(png: bytes, chunk: bytes) -> bytes:
    return png[:33] + chunk + png[33:]  # signature (8) + IHDR (25)


def credential_elements(svg: bytes) -> list[Any]:
    root = safe_et.fromstring(svg)
    return list(root.iter(f"{{{OB3_NAMESPACE}}}credential"))


# --- PNG ---------------------------------------------------------------------------------------


def test_png_fixture_is_valid(png: bytes) -> None:
    assert png_chunk_types(png) == ["IHDR", "tEXt", "IDAT", "IEND"]


def test_png_round_trip(png: bytes, credential: dict[str, Any]) -> None:
    baked = bake_png(png, credential)
    assert unbake_png(baked) == credential
    assert unbake(baked) == credential


def test_png_chunk_layout(png: bytes, credential: dict[str, Any]) -> None:
    baked = bake_png(png, credential)
    chunks = png_chunks(baked)
    # Right after IHDR, before IDAT; every original chunk kept byte for byte.
    assert [c[0] for c in chunks] == [b"IHDR", b"iTXt", b"tEXt", b"IDAT", b"IEND"]
    assert baked.replace(baked[33 : 33 + 12 + len(chunks[1][1])], b"") == png
    # Keyword, compression flag 0, method 0, empty language tag and translated keyword, then
    # compact UTF-8 JSON.
    compact = json.dumps(credential, separators=(",", ":"), ensure_ascii=False)
    assert chunks[1][1] == b"openbadgecredential\x00\x00\x00\x00\x00" + compact.encode()


def test_png_jws_round_trip(png: bytes) -> None:
    baked = bake_png(png, JWS)
    assert unbake_png(baked) == JWS
    assert png_chunks(baked)[1][1].endswith(b"\x00\x00\x00\x00\x00" + JWS.encode())


def test_png_rebake_replaces(png: bytes, credential: dict[str, Any]) -> None:
    other = {**credential, "id": "urn:uuid:other"}
    baked = bake_png(bake_png(png, credential), other)
    assert png_chunk_types(baked).count("iTXt") == 1
    assert unbake_png(baked) == other
    assert bake_png(baked, other) == baked


def test_png_unicode_credential(png: bytes) -> None:
    credential = {"name": "Évaluation — 評価 🎓", "odd": "\ufffe"}
    assert unbake_png(bake_png(png, credential)) == credential


def test_png_keeps_other_text_chunks(png: bytes, credential: dict[str, Any]) -> None:
    other_itxt = make_chunk(b"iTXt", b"Comment\x00\x00\x00\x00\x00hello")
    baked = bake_png(insert_after_ihdr(png, other_itxt), credential)
    assert other_itxt in baked
    assert unbake_png(baked) == credential


def test_png_compressed_itxt_is_read(png: bytes, credential: dict[str, Any]) -> None:
    text = json.dumps(credential).encode()
    chunk = make_chunk(b"iTXt", b"openbadgecredential\x00\x01\x00en\x00\x00" + zlib.compress(text))
    assert unbake_png(insert_after_ihdr(png, chunk)) == credential


def test_png_unknown_compression_is_refused(png: bytes) -> None:
    chunk = make_chunk(b"iTXt", b"openbadgecredential\x00\x02\x00\x00\x00{}")
    with pytest.raises(BakingError, match="unknown compression"):
        unbake_png(insert_after_ihdr(png, chunk))


def test_png_without_credential(png: bytes) -> None:
    with pytest.raises(BakingError, match="holds no baked credential"):
        unbake_png(png)


def test_png_bake_refuses_a_non_credential(png: bytes) -> None:
    with pytest.raises(BakingError, match="must be a Compact JWS"):
        bake_png(png, "not a jws")
    with pytest.raises(BakingError, match="cannot be serialized as JSON"):
        bake_png(png, {"when": object()})
    with pytest.raises(BakingError, match="JSON object or a Compact JWS"):
        bake_png(png, ["a list"])  # type: ignore[arg-type]


def test_png_size_limit(png: bytes) -> None:
    big = insert_after_ihdr(png, make_chunk(b"tEXt", b"x\x00" + b"a" * MAX_IMAGE_BYTES))
    with pytest.raises(BakingError, match="larger than 10485760 bytes"):
        unbake_png(big)


def test_not_a_png() -> None:
    data = hostile("not-a-png.png")
    with pytest.raises(BakingError, match="PNG signature is missing"):
        bake_png(data, JWS)
    with pytest.raises(BakingError, match="only PNG and SVG images can be baked"):
        bake(data, JWS)
    with pytest.raises(BakingError, match="only PNG and SVG images can be unbaked"):
        unbake(data)


def test_png_bad_crc() -> None:
    data = hostile("png-bad-crc.png")
    with pytest.raises(BakingError, match=r"PNG chunk IDAT at byte .* has a bad CRC"):
        bake_png(data, JWS)
    with pytest.raises(BakingError, match="bad CRC"):
        unbake_png(data)


def test_png_truncated() -> None:
    with pytest.raises(BakingError, match=r"runs past the end of the file|truncated"):
        unbake_png(hostile("png-truncated.png"))


def test_png_no_iend() -> None:
    with pytest.raises(BakingError, match="the IEND chunk is missing"):
        bake_png(hostile("png-no-iend.png"), JWS)


def test_png_ihdr_not_first() -> None:
    with pytest.raises(BakingError, match="the first chunk must be a 13-byte IHDR"):
        bake_png(hostile("png-ihdr-not-first.png"), JWS)


def test_png_trailing_data() -> None:
    with pytest.raises(BakingError, match="data after the IEND chunk"):
        bake_png(hostile("png-trailing-data.png"), JWS)


def test_png_itxt_bomb() -> None:
    with pytest.raises(BakingError, match="inflates past 10485760 bytes"):
        unbake_png(hostile("png-itxt-bomb.png"))


def test_png_two_credentials_first_wins(credential: dict[str, Any]) -> None:
    data = hostile("png-two-credentials.png")
    assert unbake_png(data)["id"] == "urn:uuid:first"  # type: ignore[index]
    rebaked = bake_png(data, credential)
    assert png_chunk_types(rebaked).count("iTXt") == 1
    assert unbake_png(rebaked) == credential


def test_png_credential_garbage() -> None:
    with pytest.raises(BakingError, match="neither a JSON object nor a Compact JWS"):
        unbake_png(hostile("png-credential-garbage.png"))


def test_png_credential_bad_json(png: bytes) -> None:
    chunk = make_chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00{not json")
    with pytest.raises(BakingError, match="not valid JSON"):
        unbake_png(insert_after_ihdr(png, chunk))


def test_png_credential_not_utf8(png: bytes) -> None:
    chunk = make_chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00{\xff}")
    with pytest.raises(BakingError, match="not UTF-8"):
        unbake_png(insert_after_ihdr(png, chunk))


# --- SVG -----------------------------------------------------------------------------------------


def test_svg_round_trip(svg: bytes, credential: dict[str, Any]) -> None:
    baked = bake_svg(svg, credential)
    assert unbake_svg(baked) == credential
    assert unbake(baked) == credential


def test_svg_layout_and_byte_preservation(svg: bytes, credential: dict[str, Any]) -> None:
    baked = bake_svg(svg, credential)
    root_tag_end = svg.index(b'viewBox="0 0 128 128">') + len(b'viewBox="0 0 128 128"')
    namespace = b' xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"'
    compact = json.dumps(credential, separators=(",", ":"), ensure_ascii=False).encode()
    assert b"]]>" not in compact  # (split CDATA is tested separately)
    element = b"<openbadges:credential><![CDATA[" + compact + b"]]></openbadges:credential>"
    assert baked == svg[:root_tag_end] + namespace + b">" + element + svg[root_tag_end + 1 :]


def test_svg_credential_is_first_child(svg: bytes, credential: dict[str, Any]) -> None:
    root = safe_et.fromstring(bake_svg(svg, credential))
    assert root[0].tag == f"{{{OB3_NAMESPACE}}}credential"
    assert root[0].get("verify") is None


def test_svg_jws(svg: bytes) -> None:
    baked = bake_svg(svg, JWS)
    assert f'<openbadges:credential verify="{JWS}"></openbadges:credential>'.encode() in baked
    (element,) = credential_elements(baked)
    assert element.text is None and len(element) == 0
    assert unbake_svg(baked) == JWS


def test_svg_with_byte_order_mark(svg: bytes) -> None:
    baked = bake_svg(b"\xef\xbb\xbf" + svg, JWS)
    assert baked == b"\xef\xbb\xbf" + bake_svg(svg, JWS)
    assert unbake_svg(baked) == JWS


def test_svg_str_input(svg: bytes, credential: dict[str, Any]) -> None:
    assert bake_svg(svg.decode("utf-8"), credential) == bake_svg(svg, credential)
    assert unbake_svg(bake_svg(svg, credential).decode("utf-8")) == credential


def test_svg_rebake_replaces(svg: bytes, credential: dict[str, Any]) -> None:
    once = bake_svg(svg, credential)
    other = {**credential, "id": "urn:uuid:other"}
    twice = bake_svg(once, other)
    assert len(credential_elements(twice)) == 1
    assert twice.count(b"xmlns:openbadges") == 1
    assert unbake_svg(twice) == other
    assert bake_svg(twice, credential) == once  # back to exactly the first bake
    assert bake_svg(bake_svg(twice, JWS), credential) == once


def test_svg_cdata_terminator_inside_the_credential(svg: bytes) -> None:
    credential = {"name": "a ]]> b ]]]]> c ]]", "description": "<script>&amp;</script>"}
    baked = bake_svg(svg, credential)
    assert unbake_svg(baked) == credential
    # The element body is still only CDATA (no markup leaked into the document).
    (element,) = credential_elements(baked)
    assert len(element) == 0


def test_svg_characters_xml_forbids_are_escaped(svg: bytes) -> None:
    credential = {"name": "\ufffe\uffff", "surrogate": "\ud800"}
    assert unbake_svg(bake_svg(svg, credential)) == credential


def test_svg_self_closing_root(credential: dict[str, Any]) -> None:
    baked = bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg" width="1" />', credential)
    assert baked.startswith(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="1" xmlns:openbadges="'
        + OB3_NAMESPACE.encode()
        + b'" ><openbadges:credential><![CDATA['
    )
    assert baked.endswith(b"]]></openbadges:credential></svg>")
    assert unbake_svg(baked) == credential


def test_svg_prefixed_root_and_existing_namespace(credential: dict[str, Any]) -> None:
    source = (
        b"<s:svg xmlns:s='http://www.w3.org/2000/svg' "
        b"xmlns:openbadges='https://purl.imsglobal.org/ob/v3p0' a='x>y'><s:g/></s:svg>"
    )
    baked = bake_svg(source, JWS)
    assert baked == (
        source[: source.index(b"><s:g/>")]
        + b'><openbadges:credential verify="'
        + JWS.encode()
        + b'"></openbadges:credential><s:g/></s:svg>'
    )


def test_svg_credential_found_by_namespace_not_prefix() -> None:
    source = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="https://purl.imsglobal.org/ob/v3p0">'
        b'<ob:credential verify="' + JWS.encode() + b'"/></svg>'
    )
    assert unbake_svg(source) == JWS
    rebaked = bake_svg(source, {"id": "urn:uuid:new"})
    assert b"<ob:credential" not in rebaked
    assert unbake_svg(rebaked) == {"id": "urn:uuid:new"}


def test_svg_without_credential(svg: bytes) -> None:
    with pytest.raises(BakingError, match="holds no baked credential"):
        unbake_svg(svg)


def test_svg_bad_verify_attribute() -> None:
    source = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="'
        + OB3_NAMESPACE.encode()
        + b'"><openbadges:credential verify="https://example.org/1"/></svg>'
    )
    with pytest.raises(BakingError, match="verify attribute is not a Compact JWS"):
        unbake_svg(source)


def test_svg_size_limit(svg: bytes) -> None:
    big = svg.replace(b"</svg>", b"<!--" + b"a" * MAX_IMAGE_BYTES + b"--></svg>")
    with pytest.raises(BakingError, match="larger than 10485760 bytes"):
        bake_svg(big, JWS)
    assert sniff_image_type(big) is None


def test_billion_laughs() -> None:
    with pytest.raises(BakingError, match="hostile SVG: it has a DTD"):
        unbake_svg(hostile("billion-laughs.svg"))
    with pytest.raises(BakingError, match="hostile SVG: it has a DTD"):
        bake(hostile("billion-laughs.svg"), JWS)


def test_xxe_file() -> None:
    with pytest.raises(BakingError, match="hostile SVG: it has a DTD"):
        unbake(hostile("xxe-file.svg"))
    with pytest.raises(BakingError, match="hostile SVG: it has a DTD"):
        bake_svg(hostile("xxe-file.svg"), JWS)


def test_xxe_external_dtd() -> None:
    with pytest.raises(BakingError, match="hostile SVG: it has a DTD"):
        bake_svg(hostile("xxe-external-dtd.svg"), JWS)


def test_xxe_parameter_entity() -> None:
    with pytest.raises(BakingError, match="hostile SVG: it has a DTD"):
        unbake_svg(hostile("xxe-parameter-entity.svg"))


def test_svg_two_credentials_first_wins(credential: dict[str, Any]) -> None:
    data = hostile("svg-two-credentials.svg")
    assert unbake_svg(data)["id"] == "urn:uuid:first"  # type: ignore[index]
    rebaked = bake_svg(data, credential)
    assert len(credential_elements(rebaked)) == 1
    assert unbake_svg(rebaked) == credential
    assert b"<g></g>" in rebaked  # the nested one is gone, its parent kept


def test_svg_not_svg_root() -> None:
    with pytest.raises(BakingError, match=r"the root element is .*html.*, not <svg>"):
        bake_svg(hostile("svg-not-svg-root.svg"), JWS)
    assert sniff_image_type(hostile("svg-not-svg-root.svg")) is None


def test_svg_malformed() -> None:
    with pytest.raises(BakingError, match="XML is not well formed"):
        unbake_svg(hostile("svg-malformed.svg"))


def test_svg_latin1() -> None:
    with pytest.raises(BakingError, match=r"only UTF-8 SVG images can be baked .*ISO-8859-1"):
        bake_svg(hostile("svg-latin1.svg"), JWS)


def test_svg_utf16() -> None:
    data = '<svg xmlns="http://www.w3.org/2000/svg"/>'.encode("utf-16")
    with pytest.raises(BakingError, match=r"only UTF-8 SVG images can be baked .*UTF-16"):
        bake_svg(data, JWS)


def test_svg_openbadges_prefix_bound_to_ob2() -> None:
    data = hostile("svg-openbadges-prefix-ob2.svg")
    with pytest.raises(
        BakingError, match=r"binds the prefix 'openbadges' to 'http://openbadges\.org'"
    ):
        bake_svg(data, JWS)
    with pytest.raises(BakingError, match="holds no baked credential"):
        unbake_svg(data)


# --- either format --------------------------------------------------------------------------------


def test_bake_detects_the_format(png: bytes, svg: bytes, credential: dict[str, Any]) -> None:
    baked_png, png_type = bake(png, credential)
    baked_svg, svg_type = bake(svg, credential)
    assert (png_type, svg_type) == ("image/png", "image/svg+xml")
    assert baked_png == bake_png(png, credential)
    assert baked_svg == bake_svg(svg, credential)
    assert unbake(baked_png) == unbake(baked_svg) == credential


def test_sniff_image_type(png: bytes, svg: bytes) -> None:
    assert sniff_image_type(png) == "png"
    assert sniff_image_type(svg) == "svg"
    assert sniff_image_type(b"\xef\xbb\xbf" + svg) == "svg"
    assert sniff_image_type(b'\n  <svg xmlns="http://www.w3.org/2000/svg"/>') == "svg"
    assert sniff_image_type(hostile("not-a-png.png")) is None
    assert sniff_image_type(hostile("billion-laughs.svg")) is None
    assert sniff_image_type(b'{"type": "VerifiableCredential"}') is None
    assert sniff_image_type(b"") is None


def test_errors_are_malformed_input() -> None:
    assert issubclass(BakingError, MalformedInputError)
    assert BakingError("x").code == "BAKING_ERROR"


# --- the standard SVG DOCTYPE line is accepted; everything a DTD can declare is not ----------


def test_an_svg_with_the_standard_svg_1_1_doctype_bakes_and_unbakes(
    credential: dict[str, Any],
) -> None:
    image = (IMAGES / "badge-svg11-doctype.svg").read_bytes()
    assert sniff_image_type(image) == "svg"
    baked = bake_svg(image, credential)
    assert unbake(baked) == credential
    assert b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"' in baked  # kept byte for byte
    baked_jws, media_type = bake(image, JWS)
    assert media_type == "image/svg+xml" and unbake_svg(baked_jws) == JWS


def test_a_doctype_without_external_id_or_subset_is_accepted(svg: bytes) -> None:
    image = svg.replace(b"<svg ", b"<!DOCTYPE svg>\n<svg ", 1)
    assert unbake_svg(bake_svg(image, JWS)) == JWS


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        # An attribute default would put a credential into an element that has none.
        ("svg-doctype-attlist-default-verify.svg", "internal subset"),
        ("svg-doctype-empty-internal-subset.svg", "internal subset"),
        ("svg-doctype-system-file.svg", "external document other than the W3C's SVG DTD"),
        ("xxe-external-dtd.svg", "external document other than the W3C's SVG DTD"),
        ("svg-doctype-not-svg.svg", "for 'html', not svg"),
    ],
)
def test_a_doctype_that_declares_or_fetches_anything_is_refused(fixture: str, reason: str) -> None:
    data = hostile(fixture)
    for operation in (unbake, unbake_svg, lambda image: bake_svg(image, JWS)):
        with pytest.raises(BakingError, match=f"refusing hostile SVG: it has a DTD .*{reason}"):
            operation(data)
    assert sniff_image_type(data) is None
