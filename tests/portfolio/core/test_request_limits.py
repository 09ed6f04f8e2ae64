"""Limits on what the public verification endpoints accept (issue #7, "Verification under
attack"): nesting depth, array lengths, string sizes, the number of values and of proofs.  Each
hostile input in ``tests/assets/hostile/json-*.json`` is refused with a 4xx naming the limit, in
well under a second, never a 500 or a hung worker; real credentials pass untouched."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from portfolio.core.request_limits import DEFAULT_LIMITS, JsonLimitError, JsonLimits, check_json
from tests.conftest import ASSETS, load_json, unsigned_badge

HOSTILE = ASSETS / "hostile"
#: (fixture file, error code, the limit named in the message).  Without the limits, the first
#: crashed JSON-LD expansion (a 500) and the third kept a worker busy for three minutes.
HOSTILE_CASES = [
    ("json-nested-900-deep.json", "JSON_TOO_DEEP", "max_depth"),
    ("json-10000-proofs.json", "TOO_MANY_PROOFS", "max_proofs"),
    ("json-10000-array-items.json", "JSON_TOO_MANY_ITEMS", "max_items"),
    ("json-300000-char-string.json", "JSON_STRING_TOO_LONG", "max_string_chars"),
    ("json-25000-values.json", "JSON_TOO_MANY_VALUES", "max_values"),
]
#: Far more than any refusal needs (they take milliseconds), far less than the work refused.
QUICK_SECONDS = 2.0
REAL_CREDENTIALS = sorted(
    [
        *(ASSETS / "ob3" / "examples").glob("*.json"),
        *(ASSETS / "ob3" / "signed-examples").glob("*.signed.json"),
    ]
)


def hostile(name: str) -> str:
    return (HOSTILE / name).read_text(encoding="utf-8")


def post_json(client: Any, path: str, text: str) -> Any:
    start = time.monotonic()
    response = client.post(path, data=text, content_type="application/json")
    response.elapsed = time.monotonic() - start
    return response


# -- the API: POST /credentials/verify and /presentations/verify ------------------------------


def test_the_verify_api_refuses_each_hostile_credential_quickly_naming_the_limit(client):
    for name, code, limit in HOSTILE_CASES:
        body = '{"verifiableCredential": ' + hostile(name) + "}"
        response = post_json(client, "/credentials/verify", body)
        assert response.status_code == 400, (name, response.get_data(as_text=True)[:500])
        assert response.mimetype == "application/json"
        assert response.json["error"] == code, name
        assert f"({limit})" in response.json["detail"], name
        assert response.elapsed < QUICK_SECONDS, name


def test_the_presentation_api_refuses_each_hostile_credential_inside_a_presentation(client):
    for name, code, limit in HOSTILE_CASES:
        body = (
            '{"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], '
            '"type": ["VerifiablePresentation"], "verifiableCredential": [' + hostile(name) + "]}}"
        )
        response = post_json(client, "/presentations/verify", body)
        assert response.status_code == 400, (name, response.get_data(as_text=True)[:500])
        assert response.json["error"] == code, name
        assert f"({limit})" in response.json["detail"], name
        assert response.elapsed < QUICK_SECONDS, name


def test_the_message_says_where_the_limit_was_exceeded(client):
    response = post_json(
        client,
        "/credentials/verify",
        '{"verifiableCredential": ' + hostile("json-10000-array-items.json") + "}",
    )
    assert response.json["detail"] == (
        "$.verifiableCredential.evidence has more than 256 items (max_items)"
    )


def test_json_too_deep_for_the_parser_itself_is_a_400_naming_the_depth_limit(client):
    body = '{"verifiableCredential": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = post_json(client, "/credentials/verify", body)
    assert response.status_code == 400
    assert response.json["error"] == "NOT_JSON"
    assert "more than 64 levels deep (max_depth)" in response.json["detail"]


def test_a_body_over_the_size_limit_is_413_before_it_is_parsed(client):
    body = '{"verifiableCredential": {"name": "' + "A" * (1024 * 1024) + '"}}'
    response = post_json(client, "/credentials/verify", body)
    assert response.status_code == 413
    assert response.json["error"] == "REQUEST_ENTITY_TOO_LARGE"
    assert "1048576 bytes" in response.json["detail"]


def test_a_credential_at_every_limit_is_still_verified(client, issuer):
    """Exactly at the limits is allowed: the service's own credential with 256 evidence links
    (the most items an array may have) is judged on its merits, not refused."""
    from portfolio.issuing import service as services

    links = [
        {"id": f"https://evidence.example/{n}", "type": ["Evidence"]}
        for n in range(DEFAULT_LIMITS.max_items)
    ]
    row = services.issue(unsigned_badge(evidence=links), issuer=issuer)
    response = post_json(
        client, "/credentials/verify", '{"verifiableCredential": ' + row.document + "}"
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.json["verified"] is True


# -- the /verify page --------------------------------------------------------------------------


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False


def test_the_verify_page_refuses_each_hostile_credential_with_a_readable_400(client, no_csrf):
    for name, _code, limit in HOSTILE_CASES:
        start = time.monotonic()
        response = client.post("/verify", data={"credential": hostile(name)})
        elapsed = time.monotonic() - start
        assert response.status_code == 400, name
        assert response.mimetype == "text/html"
        assert f"({limit})" in response.get_data(as_text=True), name
        assert elapsed < QUICK_SECONDS, name


def test_the_verify_page_refuses_a_hostile_credential_baked_into_a_badge(client, no_csrf):
    from credentials import baking

    credential = json.loads(hostile("json-10000-array-items.json"))
    badge = baking.bake_svg((ASSETS / "images" / "badge.svg").read_bytes(), credential)
    response = client.post(
        "/verify",
        data={"upload": (io.BytesIO(badge), "badge.svg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "(max_items)" in response.get_data(as_text=True)


# -- check_json itself ---------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL_CREDENTIALS, ids=[p.name for p in REAL_CREDENTIALS])
def test_real_credentials_are_within_every_limit(path: Path):
    check_json(load_json(str(path.relative_to(ASSETS))))


def test_a_presentation_of_32_full_badges_is_within_every_limit():
    badge = load_json("ob3/signed-examples/fullOpenBadge.signed.json")
    check_json({"verifiablePresentation": {"verifiableCredential": [badge] * 32}})


SMALL = JsonLimits(max_depth=3, max_items=4, max_values=12, max_string_chars=5, max_proofs=2)


@pytest.mark.parametrize(
    ("within", "over", "limit"),
    [
        ({"a": {"b": [1]}}, {"a": {"b": [[1]]}}, "max_depth"),
        ({"a": [1, 2, 3, 4]}, {"a": [1, 2, 3, 4, 5]}, "max_items"),
        ({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, "max_items"),
        ({"a": [[1, 2, 3], [4, 5, 6]]}, {"a": [[1, 2, 3], [4, 5, 6], [7, 8]]}, "max_values"),
        ({"a": "12345"}, {"a": "123456"}, "max_string_chars"),
        ({"12345": 1}, {"123456": 1}, "max_string_chars"),
        ({"proof": [{}, {}]}, {"proof": [{}, {}, {}]}, "max_proofs"),
    ],
)
def test_each_limit_allows_its_value_and_refuses_one_more(within, over, limit):
    check_json(within, SMALL)
    with pytest.raises(JsonLimitError, match=rf"\({limit}\)") as refused:
        check_json(over, SMALL)
    assert refused.value.limit == limit


def test_nesting_far_beyond_the_stack_is_refused_without_recursing():
    value: Any = []
    for _ in range(10_000):  # ten times deeper than Python recurses
        value = [value]
    with pytest.raises(JsonLimitError, match=r"more than 64 levels deep \(max_depth\)"):
        check_json(value)


def test_a_long_member_name_is_shortened_in_the_message():
    limits = JsonLimits(max_string_chars=60)
    with pytest.raises(JsonLimitError) as refused:
        check_json({"k" * 50: {"x": "A" * 61}}, limits)
    assert refused.value.message == (
        f"a string at $.{'k' * 40}….x has more than 60 characters (max_string_chars)"
    )


def test_a_lone_surrogate_anywhere_is_refused_as_not_unicode(client):
    for body in (b'{"verifiableCredential": {"name": "\\ud800"}}', b'{"\\udfff": 1}'):
        response = client.post("/credentials/verify", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.get_json()["error"] == "INVALID_UNICODE"


def test_json_answers_escape_text_that_utf8_cannot_carry(app):
    from portfolio.core.errors import json_response

    with app.app_context():
        response = json_response({"detail": "unknown member \ud800"}, status=400)
    assert response.get_data() == b'{"detail": "unknown member \\ud800"}'
