"""Property-based tests (Hypothesis) of the credential parser, the verifier and the Bitstring
Status List codec.

The properties, each proved over generated inputs rather than a handful of cases:

* **Only documented errors.** ``parse_credential`` and ``Verifier.verify`` on anything — random
  bytes, text, JSON of any shape, and signed credentials mutated at random (keys deleted or
  renamed, values of another type, deep nesting, huge or odd strings, lone surrogates, huge
  numbers) — return a result or raise ``MalformedInputError``: never another exception, and
  every message they produce can be sent as UTF-8.
* **Integrity.** A mutated signed credential is reported verified only when what its proof signs
  is unchanged: the canonical (RDFC-1.0) document and proof configuration, and the proof value.
  Changing any string of the signed content is never verified.
* **Status lists.** ``encode``/``decode`` round-trip for random bit sets and list sizes, the
  encoding is canonical, and a malformed ``encodedList`` (random text, truncated, altered) or
  status entry raises ``StatusListError`` — nothing else.

Reproducible by default: derandomized, no example database, few examples.  Set
``CREDFOLIO_FUZZ_EXAMPLES=N`` for a longer, randomized run (see docs/security-testing.md).
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from credentials.errors import MalformedInputError, StatusListError
from credentials.jsonld import MAX_DEPTH, DocumentLoader
from credentials.proof import proofs_of
from credentials.status import (
    MIN_SIZE,
    StatusEntry,
    StatusList,
    parse_status_entry,
    read_status,
)
from credentials.verify import VerificationResult, Verifier, parse_credential
from tests.conftest import load_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)
STATUS_LISTS = {
    "https://example.edu/status/1": load_json("tampered/status-list-revocation.json"),
    "https://example.edu/status/2": load_json("tampered/status-list-suspension.json"),
}
#: Signed credentials that verify at NOW: one without status, one with revocation and
#: suspension entries (so mutations reach the status-list checks too).
SIGNED = {
    "valid": load_json("tampered/valid.json"),
    "with-status": load_json("tampered/not-revoked.json"),
}

_FUZZ_EXAMPLES = int(os.environ.get("CREDFOLIO_FUZZ_EXAMPLES") or 0)


def fuzz_settings(default_examples: int) -> settings:
    """Few, derandomized examples by default (CI is reproducible); ``CREDFOLIO_FUZZ_EXAMPLES``
    asks for a longer randomized run instead (a failure prints its seed)."""
    return settings(
        max_examples=_FUZZ_EXAMPLES or default_examples,
        derandomize=not _FUZZ_EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier.offline(now=lambda: NOW, status_lists=STATUS_LISTS)


@pytest.fixture(scope="module")
def loader() -> DocumentLoader:
    return DocumentLoader.bundled()


# -- strategies -------------------------------------------------------------------------------

#: Strings a credential is made of, so that generated documents get past the first checks.
_VOCABULARY = [
    "@context",
    "@id",
    "@type",
    "@value",
    "@base",
    "@import",
    "@vocab",
    "id",
    "type",
    "issuer",
    "credentialSubject",
    "credentialStatus",
    "validFrom",
    "validUntil",
    "issuanceDate",
    "proof",
    "endorsement",
    "achievement",
    "name",
    "proofValue",
    "verificationMethod",
    "cryptosuite",
    "previousProof",
    "statusListIndex",
    "statusListCredential",
    "statusPurpose",
    "encodedList",
    "VerifiableCredential",
    "OpenBadgeCredential",
    "EndorsementCredential",
    "BitstringStatusListEntry",
    "DataIntegrityProof",
    "eddsa-rdfc-2022",
    "assertionMethod",
    "revocation",
    "suspension",
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://example.org/not-bundled.jsonld",
    "did:key:z6Mkmeb2FCMkAaPnV6WLKH3UJUz6iJ3PLNatSaycqkCQzPjE",
    "did:web:example.com",
    "2024-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2024-13-45T99:99:99Z",
    "zzzz",
    "u",
    "",
]
#: Any code point, lone surrogates (``"\\ud800"`` escapes in JSON) included.
_ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
_odd_text = st.one_of(
    st.text(_ANY_CHARACTER, max_size=40),
    st.sampled_from(_VOCABULARY),
    st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\x00", "\u202e", "\ufeff", "e\u0301"]),
    st.builds(
        lambda s, n: s * n, st.sampled_from(["a", "é", "𝄞", "\\", '"']), st.integers(1, 5000)
    ),
)
_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),  # NaN and ±inf too: a dict handed to the verifier may hold them
)
json_scalars = st.one_of(st.none(), st.booleans(), _numbers, _odd_text)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(_VOCABULARY), _odd_text), children, max_size=5),
    )


json_values = st.recursive(json_scalars, _containers, max_leaves=25)


def _nested(value: Any, depth: int, kind: str) -> Any:
    for _ in range(depth):
        value = [value] if kind == "list" else {"achievement": value}
    return value


Path = tuple[str | int, ...]


def _paths(node: Any, *, max_length: int = 30) -> Iterator[Path]:
    """Every position in a JSON value (containers and leaves; not the root), down to
    ``max_length`` steps.  Iterative: earlier mutations may have nested a value thousands deep."""
    stack: list[tuple[Any, Path]] = [(node, ())]
    while stack:
        value, path = stack.pop()
        if len(path) >= max_length or not isinstance(value, dict | list):
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for step, child in items:
            yield (*path, step)
            stack.append((child, (*path, step)))


def _parent(document: Any, path: Path) -> Any:
    node = document
    for step in path[:-1]:
        node = node[step]
    return node


def _retyped(value: Any) -> list[Any]:
    """The same content as another JSON type (or an empty/degenerate one)."""
    text = "[…]" if isinstance(value, dict | list) else str(value)[:50]  # no deep repr
    return [None, True, 0, -1, 1.5, "", text, [], {}, [value], {"@value": value}]


@st.composite
def mutations(draw: st.DrawFn, document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(a copy of ``document`` with one to three random mutations, what was done)."""
    document = copy.deepcopy(document)
    done = []
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(document))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(document, path), path[-1]
        action = draw(
            st.sampled_from(["delete", "replace", "retype", "nest", "huge", "rename", "add"])
        )
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(json_values)
        elif action == "retype":
            parent[key] = draw(st.sampled_from(_retyped(parent[key])))
        elif action == "nest":
            depth = draw(st.sampled_from([1, 2, 10, 60, MAX_DEPTH - len(path), 200, 3000]))
            parent[key] = _nested(parent[key], depth, draw(st.sampled_from(["list", "object"])))
        elif action == "huge":
            unit = draw(_odd_text) or "a"
            length = draw(st.sampled_from([1000, 100_000, 300_000]))
            parent[key] = (unit * (length // len(unit) + 1))[:length]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.one_of(st.sampled_from(_VOCABULARY), _odd_text))] = parent.pop(key)
        elif action == "add" and isinstance(parent[key], dict):
            parent[key][draw(st.one_of(st.sampled_from(_VOCABULARY), _odd_text))] = draw(
                json_values
            )
        elif action == "add" and isinstance(parent[key], list):
            parent[key].append(draw(json_values))
        done.append(f"{action} {list(path)}")
    return document, "; ".join(done)


@st.composite
def mutated_credentials(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    """(base name, one of the signed credentials mutated at random, what was done)."""
    name = draw(st.sampled_from(sorted(SIGNED)))
    document, done = draw(mutations(SIGNED[name]))
    return name, document, done


# -- helpers ----------------------------------------------------------------------------------


def verify_or_malformed(verifier: Verifier, value: Any) -> VerificationResult | None:
    """Verify; ``None`` for a ``MalformedInputError``.  Anything else propagates (and fails)."""
    try:
        result = verifier.verify(value)
    except MalformedInputError as exc:
        _event(f"malformed: {exc.code}")
        _sendable({"error": exc.code, "detail": exc.message})
        if isinstance(exc.result, VerificationResult):
            _sendable(exc.result.to_dict())
        return None
    assert isinstance(result, VerificationResult)
    _event(f"verified: {result.verified}")
    _sendable(result.to_dict())
    return result


def _event(text: str) -> None:
    """Count outcomes (``--hypothesis-show-statistics``), inside Hypothesis tests only."""
    if currently_in_test_context():
        event(text)


def _sendable(body: Any) -> None:
    """The body can be answered as JSON in UTF-8 (what the API and the CLI print)."""
    json.dumps(body, ensure_ascii=False).encode("utf-8")


def signed_content(document: dict[str, Any], loader: DocumentLoader) -> set[tuple[str, str, Any]]:
    """What each proof signs: (canonical proof configuration, canonical document, proofValue)."""
    from credentials.proof import Eddsa2022Suite

    suite = Eddsa2022Suite(loader=loader)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    content = set()
    for proof in proofs_of(document):
        options = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
        config, canonical = suite.canonical_forms(unsecured, options)
        content.add((config, canonical, proof.get("proofValue")))
    return content


# -- the parser and the verifier --------------------------------------------------------------


@fuzz_settings(150)
@given(st.one_of(st.binary(max_size=200), st.text(_ANY_CHARACTER, max_size=200), json_values))
def test_parse_credential_returns_an_object_or_raises_malformed_input(value: Any) -> None:
    try:
        parsed = parse_credential(value)
    except MalformedInputError as exc:
        _sendable(exc.to_dict())
        return
    assert isinstance(parsed, dict)


@fuzz_settings(60)
@given(
    st.one_of(
        json_values,
        st.dictionaries(st.sampled_from(_VOCABULARY), json_values, max_size=8),
        st.binary(max_size=100),
    )
)
def test_the_verifier_on_any_json_gives_a_result_or_malformed_input(
    verifier: Verifier, value: Any
) -> None:
    verify_or_malformed(verifier, value)


@fuzz_settings(120)
@given(mutated_credentials())
def test_a_mutated_credential_is_verified_only_if_its_signed_content_is_unchanged(
    verifier: Verifier, loader: DocumentLoader, case: tuple[str, dict[str, Any], str]
) -> None:
    name, document, _what = case
    result = verify_or_malformed(verifier, document)
    if result is not None and result.verified:
        # Verified after a mutation: only if the mutation did not touch what was signed (JSON
        # that means the same RDF, e.g. one type as a string instead of a one-item array).
        assert signed_content(document, loader) <= signed_content(SIGNED[name], loader)


@fuzz_settings(60)
@given(st.data())
def test_changing_any_signed_string_is_never_verified(
    verifier: Verifier, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(SIGNED)))
    document = copy.deepcopy(SIGNED[name])
    strings = [p for p in _paths(document) if isinstance(_parent(document, p)[p[-1]], str)]
    path = data.draw(st.sampled_from(strings))
    parent = _parent(document, path)
    extra = data.draw(st.text(_ANY_CHARACTER, min_size=1, max_size=3))
    parent[path[-1]] = data.draw(
        st.sampled_from([parent[path[-1]] + extra, extra + parent[path[-1]]])
    )
    result = verify_or_malformed(verifier, document)
    assert result is None or not result.verified, f"{path} changed and still verified"


@fuzz_settings(40)
@given(st.sampled_from(sorted(SIGNED)), st.data())
def test_truncated_or_corrupted_json_text_is_malformed_or_not_verified(
    verifier: Verifier, loader: DocumentLoader, name: str, data: st.DataObject
) -> None:
    text = json.dumps(SIGNED[name]).encode("utf-8")
    cut = data.draw(st.integers(0, len(text) - 1))
    corrupted = data.draw(
        st.sampled_from(
            [text[:cut], text[:cut] + text[cut + 1 :], text[:cut] + b"\xff" + text[cut:]]
        )
    )
    result = verify_or_malformed(verifier, corrupted)
    if result is not None and result.verified:
        # Dropping one byte can leave valid JSON (a space, a digit of a number): then it must
        # still sign the same content.
        document = json.loads(corrupted)
        assert signed_content(document, loader) <= signed_content(SIGNED[name], loader)


def _changed(name: str, path: Path, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(SIGNED[name])
    _parent(document, path)[path[-1]] = value
    return document


#: What the fuzzing above found, each kept as a named case: before the fix each raised
#: something other than MalformedInputError (RecursionError, OverflowError, TypeError,
#: ValueError) or produced a message that cannot be encoded.
FOUND_BY_FUZZING = {
    "nested-3000-levels": (
        _changed("valid", ("credentialSubject", "achievement", "name"), _nested("x", 3000, "list")),
        "JSON_TOO_DEEP",
    ),
    "nested-101-levels": (
        _changed("valid", ("credentialSubject", "achievement"), _nested({}, 98, "object")),
        "JSON_TOO_DEEP",
    ),
    "lone-surrogate-in-a-value": (
        _changed("valid", ("proof", 0, "verificationMethod"), "did:web:\ud800#key"),
        "INVALID_UNICODE",
    ),
    "lone-surrogate-in-a-member-name": (
        _changed("valid", ("credentialSubject", "\udc80"), "x"),
        "INVALID_UNICODE",
    ),
    "integer-beyond-a-double": (
        _changed("with-status", ("credentialSubject", "achievement", "name"), 10**400),
        "INVALID_NUMBER",
    ),
    "previousProof-not-a-proof-id": (
        _changed("valid", ("proof", 0, "previousProof"), 5),
        "UNSUPPORTED_PROOF",
    ),
    "integer-of-5000-digits-in-json-text": ('{"validFrom": ' + "1" * 5000 + "}", "NOT_JSON"),
    "json-text-nested-100000-levels": ("[" * 100_000 + "]" * 100_000, "NOT_JSON"),
}


@pytest.mark.parametrize(("value", "code"), FOUND_BY_FUZZING.values(), ids=list(FOUND_BY_FUZZING))
def test_what_fuzzing_found_is_malformed_input(verifier: Verifier, value: Any, code: str) -> None:
    with pytest.raises(MalformedInputError) as raised:
        verifier.verify(value)
    assert raised.value.code == code
    _sendable(raised.value.to_dict())


@pytest.mark.parametrize("kind", ["list", "object"])
def test_a_credential_nested_exactly_to_the_limit_is_judged(verifier: Verifier, kind: str) -> None:
    """100 levels (the limit) reach JSON-LD processing, which copes: no RecursionError."""
    nested = _nested("x", MAX_DEPTH - 4, kind)  # root, subject, achievement, name: 4 levels
    document = _changed("valid", ("credentialSubject", "achievement", "name"), nested)
    result = verify_or_malformed(verifier, document)
    assert result is None or not result.verified


def test_signing_a_document_nested_too_deeply_is_malformed_input(loader: DocumentLoader) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from credentials.proof import Eddsa2022Suite

    document = {k: v for k, v in SIGNED["valid"].items() if k != "proof"}
    document["name"] = _nested("x", 500, "list")
    with pytest.raises(MalformedInputError, match="nested more than 100 levels") as raised:
        Eddsa2022Suite(loader=loader).create_proof(
            document,
            key=Ed25519PrivateKey.from_private_bytes(bytes(32)),
            verification_method="did:example:issuer#key",
        )
    assert raised.value.code == "JSON_TOO_DEEP"


# -- the Bitstring Status List codec ----------------------------------------------------------

#: List sizes in bytes: the minimum, a few above it, and a larger one (all multiples of 8 bits).
_list_sizes = st.sampled_from([MIN_SIZE // 8, MIN_SIZE // 8 + 1, MIN_SIZE // 8 + 77, MIN_SIZE // 2])


@fuzz_settings(40)
@given(_list_sizes, st.data())
def test_any_bits_of_any_size_round_trip_and_encode_canonically(
    size_bytes: int, data: st.DataObject
) -> None:
    entries = size_bytes * 8
    indexes = data.draw(st.sets(st.integers(0, entries - 1), max_size=300))
    status_list = StatusList(bytes(size_bytes))
    for index in indexes:
        status_list.set(index, True)
    encoded = status_list.encode()
    decoded = StatusList.decode(encoded)
    assert len(decoded) == entries
    assert decoded == status_list
    assert {i for i in indexes if decoded.get(i)} == indexes
    assert decoded.encode() == encoded  # GZIP with mtime 0: one list, one encoding
    probe = data.draw(st.integers(0, entries - 1))
    assert decoded.get(probe) == (probe in indexes)


def _valid_encoding() -> str:
    status_list = StatusList.new()
    status_list.set(7, True)
    return status_list.encode()


def _b64(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


_VALID_ENCODING = _valid_encoding()
_encoded_lists = st.one_of(
    st.text(_ANY_CHARACTER, max_size=100),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/u", max_size=100),
    st.binary(max_size=300).map(_b64),
    st.binary(max_size=3000).map(lambda b: _b64(gzip.compress(b))),
    st.tuples(st.integers(0, len(_VALID_ENCODING)), st.text(_ANY_CHARACTER, max_size=3)).map(
        lambda t: _VALID_ENCODING[: t[0]] + t[1] + _VALID_ENCODING[t[0] + 1 :]
    ),
    st.integers(0, len(_VALID_ENCODING) - 1).map(lambda n: _VALID_ENCODING[:n]),
    st.sampled_from(
        ["u", "", "z" + _VALID_ENCODING[1:], _VALID_ENCODING + "A", _VALID_ENCODING + "="]
    ),
    json_values,
)


@fuzz_settings(200)
@given(_encoded_lists)
def test_decoding_anything_gives_a_full_list_or_a_status_list_error(encoded: Any) -> None:
    try:
        decoded = StatusList.decode(encoded)
    except StatusListError as exc:
        assert exc.code in {"MALFORMED_VALUE_ERROR", "STATUS_LIST_LENGTH_ERROR"}
        _sendable(exc.to_dict())
        return
    # Whatever decodes is a whole list of at least the minimum size, and re-encodes to a value
    # that decodes to the same bits.
    assert len(decoded) >= MIN_SIZE
    assert StatusList.decode(decoded.encode()) == decoded


@fuzz_settings(80)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["BitstringStatusListEntry", ["BitstringStatusListEntry"]])
                | json_values,
                "statusPurpose": st.sampled_from(["revocation", "suspension", "message"])
                | json_values,
                "statusListIndex": st.integers(-5, 10**20).map(str) | json_values,
                "statusListCredential": st.sampled_from(
                    ["https://example.edu/status/1", "did:web:x", "/relative", "https://a b"]
                )
                | json_values,
            },
            optional={"statusSize": st.integers(-1, 3) | json_values},
        ),
    ),
    st.sampled_from(sorted(STATUS_LISTS)),
)
def test_reading_any_status_entry_gives_a_bit_or_a_status_list_error(
    entry: Any, list_url: str
) -> None:
    try:
        parsed = parse_status_entry(entry)
        is_set = read_status(
            StatusEntry(url=list_url, index=parsed.index, purpose=parsed.purpose),
            STATUS_LISTS[list_url],
        )
    except StatusListError as exc:
        _sendable(exc.to_dict())
        return
    assert isinstance(is_set, bool)
