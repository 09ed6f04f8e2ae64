"""A short fuzzing run of the public verification endpoints (Hypothesis through the Flask test
client): ``POST /credentials/verify`` and the ``/verify`` page.

Bodies: JSON of any shape, signed credentials mutated at random (one signed by this service,
one by a did:key), invalid JSON (truncated, NaN, byte-order marks, invalid UTF-8), random bytes,
nesting from a few levels to far past every limit, oversized bodies, and wrong content types.
The property: the answer is always 2xx or 4xx — never a 5xx or an exception — and on the API
always JSON: ``{"verified", "checks", ...}`` for a judged credential (200 verified, 422 not),
``{"error", "detail"}`` for everything refused.

Reproducible by default (derandomized, no example database, few examples).  A longer run:
``CREDFOLIO_FUZZ_EXAMPLES=5000 scripts/test tests/portfolio/public/test_fuzz_verify.py``
(docs/security-testing.md).
"""

from __future__ import annotations

import codecs
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.core.errors import MAX_BODY_BYTES
from tests.conftest import load_json, unsigned_badge
from tests.credentials.test_properties import _FUZZ_EXAMPLES, json_values, mutations

API = "/credentials/verify"
PAGE = "/verify"


def fuzz_settings(default_examples: int) -> settings:
    """As in tests/credentials/test_properties.py; the app fixture is made once per test, not
    per example, on purpose: verifying changes nothing in the database."""
    return settings(
        max_examples=_FUZZ_EXAMPLES or default_examples,
        derandomize=not _FUZZ_EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


@pytest.fixture
def credentials(app: Any, issuer: Any) -> Iterator[list[dict[str, Any]]]:
    """Signed credentials to mutate: one issued by this service (did:web, status lists in its
    database) and one signed with a did:key."""
    from portfolio.issuing import service as services

    row = services.issue(unsigned_badge(), issuer=issuer)
    yield [json.loads(row.document), load_json("tampered/valid.json")]


# -- bodies -----------------------------------------------------------------------------------

_names = st.text(max_size=20) | st.sampled_from(
    ["verifiableCredential", "options", "checks", "credential", "@context", ""]
)


def _dumps(value: Any, ascii_only: bool) -> str:
    """``json.dumps`` without recursion (mutations nest values thousands of levels deep)."""
    parts: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            parts.append(item.text)
        elif isinstance(item, dict):
            stack.append(_Raw("}"))
            for index, (key, child) in enumerate(reversed(list(item.items()))):
                stack.append(child)
                stack.append(_Raw(json.dumps(str(key), ensure_ascii=ascii_only) + ":"))
                if index < len(item) - 1:
                    stack.append(_Raw(","))
            stack.append(_Raw("{"))
        elif isinstance(item, list):
            stack.append(_Raw("]"))
            for index, child in enumerate(reversed(item)):
                stack.append(child)
                if index < len(item) - 1:
                    stack.append(_Raw(","))
            stack.append(_Raw("["))
        else:
            parts.append(json.dumps(item, ensure_ascii=ascii_only))
    return "".join(parts)


class _Raw:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _text(value: Any, ascii_only: bool) -> bytes:
    # ensure_ascii=False keeps lone surrogates as such: encoded with surrogatepass they make
    # invalid UTF-8 (CESU-style) bytes, which is what a hostile client would send.
    return _dumps(value, ascii_only).encode("utf-8", "surrogatepass")


def _deep(depth: int, kind: str) -> bytes:
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    inner = opening * depth + "1" + closing * depth
    return ('{"verifiableCredential":' + inner + "}").encode()


@st.composite
def api_bodies(draw: st.DrawFn, credentials: list[dict[str, Any]]) -> bytes:
    kind = draw(
        st.sampled_from(
            ["any-json", "wrapped", "mutated", "mutated", "deep", "broken", "bytes", "large"]
        )
    )
    if kind == "any-json":
        return _text(draw(json_values), draw(st.booleans()))
    if kind == "wrapped":
        body: dict[str, Any] = {"verifiableCredential": draw(json_values)}
        if draw(st.booleans()):
            body["options"] = draw(json_values | st.dictionaries(_names, json_values, max_size=3))
        return _text(body, draw(st.booleans()))
    if kind == "mutated":
        document, _done = draw(mutations(draw(st.sampled_from(credentials))))
        body = {"verifiableCredential": document}
        if draw(st.booleans()):
            body[draw(_names)] = draw(json_values)
        return _text(body, draw(st.booleans()))
    if kind == "deep":
        depth = draw(st.sampled_from([1, 10, 63, 64, 65, 99, 100, 101, 500, 999, 1000, 50_000]))
        return _deep(depth, draw(st.sampled_from(["list", "object"])))
    if kind == "broken":
        valid = _text({"verifiableCredential": draw(st.sampled_from(credentials))}, True)
        cut = draw(st.integers(0, len(valid)))
        return draw(
            st.sampled_from(
                [
                    valid[:cut],
                    valid[:cut] + b"\xff\xfe" + valid[cut:],
                    codecs.BOM_UTF8 + valid,
                    valid.replace(b"2024", b"NaN", 1),
                    valid.replace(b'"', b"'"),
                    valid + b" trailing",
                ]
            )
        )
    if kind == "large":
        return (
            b'{"verifiableCredential": {}, "x": "'
            + b"a"
            * draw(st.sampled_from([MAX_BODY_BYTES - 64, MAX_BODY_BYTES, 3 * MAX_BODY_BYTES]))
            + b'"}'
        )
    return draw(st.binary(max_size=300))


_content_types = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/ld+json",
        "application/vc+json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        None,
    ]
)


def assert_api_answer(response: Any) -> None:
    """2xx/4xx, JSON, and the documented shape for that status."""
    assert response.status_code < 500, response.get_data()[:500]
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data().decode("utf-8"))
    assert isinstance(body, dict)
    if response.status_code in (200, 422):
        assert body["verified"] is (response.status_code == 200)
        assert isinstance(body["checks"], list)
        assert all(set(check) == {"name", "status", "detail"} for check in body["checks"])
    else:
        assert 400 <= response.status_code < 500
        assert isinstance(body["error"], str) and body["error"]
        assert isinstance(body["detail"], str) and body["detail"]
        assert "Traceback" not in body["detail"]


# -- the API ----------------------------------------------------------------------------------


@fuzz_settings(150)
@given(data=st.data())
def test_the_verify_api_answers_any_body_with_documented_json(
    client: Any, credentials: list[dict[str, Any]], data: st.DataObject
) -> None:
    body = data.draw(api_bodies(credentials), label="body")
    content_type = data.draw(_content_types, label="content type")
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(API, data=body, headers=headers)
    assert_api_answer(response)
    if content_type is None or content_type.startswith(("text/", "application/x-www")):
        assert response.status_code == 415


def test_the_credentials_to_mutate_verify(client: Any, credentials: list[dict[str, Any]]) -> None:
    """The fuzzer starts from credentials that verify (else it would only explore refusals)."""
    for document in credentials:
        response = client.post(API, json={"verifiableCredential": document})
        assert response.status_code == 200, response.get_data(as_text=True)


def test_a_lone_surrogate_in_a_member_name_is_a_400_not_a_crash(client: Any) -> None:
    response = client.post(
        API, data=b'{"verifiableCredential": {}, "\\ud800": 1}', content_type="application/json"
    )
    assert_api_answer(response)
    assert response.status_code == 400


# -- the /verify page -------------------------------------------------------------------------


_BOUNDARY = b"credfolio-fuzz-3f1e9a0c7d"


def _multipart(name: str, value: bytes, filename: str | None) -> bytes:
    # Built by hand: given a large file, the test client would spool it to a temporary file.
    disposition = f'form-data; name="{name}"' + (
        f'; filename="{filename}"' if filename is not None else ""
    )
    return (
        b"--" + _BOUNDARY + b"\r\n"
        b"Content-Disposition: "
        + disposition.encode()
        + b"\r\n\r\n"
        + value
        + b"\r\n--"
        + _BOUNDARY
        + b"--\r\n"
    )


@st.composite
def page_submissions(draw: st.DrawFn, credentials: list[dict[str, Any]]) -> bytes:
    """A multipart/form-data body: a pasted credential or an uploaded file."""
    body = draw(api_bodies(credentials))
    if draw(st.booleans()):
        # The credential alone, as a person would paste it or save it to a file.
        with contextlib.suppress(ValueError, KeyError, TypeError, RecursionError):
            body = _text(json.loads(body)["verifiableCredential"], draw(st.booleans()))
    if draw(st.booleans()):
        return _multipart("credential", body, None)
    filename = draw(st.sampled_from(["badge.json", "badge.png", "badge.svg", "", "../x"]))
    prefix = draw(st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"<svg ", b"<?xml "]))
    return _multipart("upload", prefix + body, filename)


@fuzz_settings(60)
@given(data=st.data())
def test_the_verify_page_answers_any_submission_with_a_page(
    app: Any, client: Any, credentials: list[dict[str, Any]], data: st.DataObject
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # fuzz what comes after the form check
    body = data.draw(page_submissions(credentials), label="submission")
    response = client.post(
        PAGE,
        data=body,
        content_type=f"multipart/form-data; boundary={_BOUNDARY.decode()}",
    )
    assert response.status_code in (200, 400, 413), response.status_code
    assert response.mimetype == "text/html"
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_verify_page_without_a_csrf_token_is_a_400_page(app: Any, client: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(PAGE, data={"credential": "{}"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
