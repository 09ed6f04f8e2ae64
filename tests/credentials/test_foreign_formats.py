"""A submission that holds something we cannot verify says what it holds (a VC-JWT, an SD-JWT,
a JWE, a PDF...) instead of "not valid JSON"; text we cannot name stays NOT_JSON.

Fixtures: tests/assets/foreign/ (README.md there)."""

from __future__ import annotations

import pytest

from credentials.errors import MalformedInputError
from credentials.foreign_formats import (
    JWE,
    JWT,
    JWT_CREDENTIAL,
    SD_JWT_CREDENTIAL,
    describe,
    describe_token,
)
from credentials.verify import Verifier
from tests.conftest import ASSETS

FOREIGN = ASSETS / "foreign"


@pytest.mark.parametrize(
    ("fixture", "what"),
    [
        ("vc-jwt-credential.jwt", JWT_CREDENTIAL),
        ("sd-jwt-credential.txt", SD_JWT_CREDENTIAL),
        ("jwe-encrypted-token.txt", JWE),
        ("not-a-credential.pdf", "a PDF document"),
    ],
)
def test_the_verifier_names_what_a_file_holds(fixture, what):
    with pytest.raises(MalformedInputError) as refused:
        Verifier.offline().verify((FOREIGN / fixture).read_bytes())
    assert refused.value.code == "UNSUPPORTED_FORMAT"
    assert what in refused.value.message
    assert "not valid JSON" not in refused.value.message


def test_a_vc_jwt_given_as_text_is_named_too():
    text = (FOREIGN / "vc-jwt-credential.jwt").read_text()
    with pytest.raises(MalformedInputError, match=r"a JWT-secured credential \(VC-JWT\)"):
        Verifier.offline().verify(text)


def test_text_we_cannot_name_is_still_not_json():
    with pytest.raises(MalformedInputError) as refused:
        Verifier.offline().verify("{ this is not json")
    assert refused.value.code == "NOT_JSON"


@pytest.mark.parametrize(
    "text",
    [
        "three.dotted.words",  # not a JOSE header
        "eyJmb28iOiJiYXIifQ.e30.c2ln",  # a header without "alg"
        "",
        "a" * 10,
    ],
)
def test_things_that_only_look_like_tokens_are_not_named(text):
    assert describe_token(text) is None


def test_a_jws_that_is_no_credential_is_called_a_json_web_token():
    token = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6ZXhhbXBsZToxMjMifQ.c2lnbmF0dXJl"
    assert describe(token) == JWT


def test_images_that_cannot_carry_a_credential_are_named():
    assert "JPEG image" in (describe(b"\xff\xd8\xff\xe0" + b"\x00" * 16) or "")
    assert "WebP image" in (describe(b"RIFF\x00\x00\x00\x00WEBPVP8 ") or "")
