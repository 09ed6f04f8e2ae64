"""DATA_LOSS_DETECTION_ERROR for every IRI the RDF conversion would drop or change (Data
Integrity 1.0 §4.1), and a 400-class error for every malformed JSON-LD — never a crash.

The attack this closes: ``"id": "https ://not-a-url/1"`` is not an IRI, so JSON-LD to RDF drops
every statement about the credential (its type, issuer, dates, subject link).  A signer that
does not notice signs a canonical form without them, and those fields can then be changed at
will while the signature still verifies (``tests/assets/vc-rules/id-not-a-url.*``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld

from credentials.errors import DataLossError, MalformedInputError
from credentials.jsonld import DocumentLoader, to_quads
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, Verifier
from issuer_keys.multikey import decode_secret_key, encode_public_key
from tests.conftest import load_json

RULES = Path(__file__).resolve().parents[1] / "assets" / "vc-rules"
DEMO = load_json("ob3/signed-examples/DEMO-KEY.json")
KEY = decode_secret_key(DEMO["secretKeyMultibase"])
VM = f"did:key:{encode_public_key(KEY.public_key())}#{encode_public_key(KEY.public_key())}"


@pytest.fixture(scope="module")
def loader() -> DocumentLoader:
    return DocumentLoader.bundled()


@pytest.fixture(scope="module")
def suite(loader: DocumentLoader) -> Eddsa2022Suite:
    return Eddsa2022Suite(loader=loader)


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((RULES / name).read_text(encoding="utf-8")))


def test_the_attack_a_lenient_signer_signs_a_form_without_the_credential_statements(loader):
    # The premise, shown with plain pyld: both files have one canonical form, so one signature.
    signed = fixture("id-not-a-url.signed.json")
    changed = fixture("id-not-a-url.changed-after-signing.json")
    assert signed["validUntil"] != changed["validUntil"]

    def lenient(document: dict[str, Any]) -> str:
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
        return str(pyld.normalize(unsecured, {**options, "documentLoader": loader}))

    assert lenient(signed) == lenient(changed)
    assert "validUntil" not in lenient(signed)


@pytest.mark.parametrize(
    "name", ["id-not-a-url.signed.json", "id-not-a-url.changed-after-signing.json"]
)
def test_a_credential_whose_id_is_not_an_iri_is_refused_by_the_verifier(name):
    verifier = Verifier.offline()
    with pytest.raises(DataLossError, match="https ://not-a-url/1") as caught:
        verifier.verify(fixture(name))
    assert caught.value.code == "DATA_LOSS_DETECTION_ERROR"
    terms = caught.value.result.check("terms")
    assert terms.status == FAILED
    assert "not a valid IRI" in terms.detail


@pytest.mark.parametrize(
    ("name", "culprit"),
    [
        ("id-not-a-url.signed.json", "https ://not-a-url/1"),
        ("iri-with-angle-brackets.json", "urn:uuid:<not-an-iri>"),
        ("iri-with-space-in-subject-id.json", "did:example:ebfeb1f712 ebc6f1c276e12ec21"),
        ("language-tag-malformed.json", "@language"),
    ],
)
def test_nothing_that_the_conversion_would_drop_or_change_is_signed(suite, name, culprit):
    document = fixture(name)
    document.pop("proof", None)
    with pytest.raises(DataLossError) as caught:
        suite.create_proof(document, key=KEY, verification_method=VM)
    assert caught.value.term == culprit
    assert "signed" in caught.value.message


def _inline(**members: Any) -> dict[str, Any]:
    return {
        "@context": {"@vocab": "https://example.com/vocab#", "link": {"@type": "@id"}},
        "@id": "https://example.com/thing",
        **members,
    }


@pytest.mark.parametrize(
    ("document", "culprit"),
    [
        # a property that expands to a blank node: generalized RDF, dropped by JSON-LD to RDF
        (
            _inline(**{"@context": {"@vocab": "https://example.com/vocab#", "p": "_:p"}, "p": 1}),
            "_:",
        ),
        # an object IRI with a space: pyld resolves it and then skips the statement
        (_inline(link="https://example.com/a b"), "https://example.com/a b"),
        # a node whose id is not an IRI: every statement about it is skipped
        ({**_inline(), "@id": "https ://x", "name": "dropped"}, "https ://x"),
        # a named graph whose name is not an IRI: the whole graph is skipped
        (
            {
                "@context": {"@vocab": "https://example.com/vocab#"},
                "@id": "https ://graph",
                "@graph": [{"@id": "https://example.com/in", "name": "x"}],
            },
            "https ://graph",
        ),
        # an IRI pyld keeps but N-Quads cannot carry unchanged
        (_inline(link="https://example.com/{x}"), "https://example.com/{x}"),
        # an integer from 1e21 up becomes a double (JSON-LD 1.1 API §8.6): 10^30 + 1 would
        # sign the same as 10^30
        (_inline(count=10**30), str(10**30)),
    ],
    ids=["blank-node-predicate", "object-iri", "subject-iri", "graph-name", "braces", "integer"],
)
def test_every_statement_the_conversion_would_skip_is_data_loss(loader, document, culprit):
    with pytest.raises(DataLossError) as caught:
        to_quads(copy.deepcopy(document), loader=loader)
    assert caught.value.term is not None
    assert caught.value.term.startswith(culprit)  # a blank node is relabelled (_:b1)


@pytest.mark.parametrize("name", ["vocab-null.json", "null-context-mappings.json"])
def test_null_vocab_language_and_direction_remove_nothing_when_none_is_set(loader, name):
    # JSON-LD 1.1 API §4.1.2 steps 5.7-5.9: null removes the mapping, if any (as jsonld.js
    # does).  pyld raised KeyError('@vocab') here: a 500.
    document = fixture(name)
    without = {**document, "@context": document["@context"][:-1]}
    assert to_quads(document, loader=loader) == to_quads(without, loader=loader)


def test_json_ld_the_processor_cannot_take_is_malformed_never_a_crash(loader):
    # A type map whose value is a number: pyld fails with AttributeError in its node map.
    with pytest.raises(MalformedInputError) as caught:
        to_quads(fixture("type-map-pyld-cannot-process.json"), loader=loader)
    assert caught.value.code == "INVALID_JSON_LD"
    assert "AttributeError" in caught.value.message


def test_valid_iris_and_language_tags_still_convert(loader):
    document = fixture("language-tag-malformed.json")
    document["credentialSubject"]["name"]["@language"] = "en-US"
    document["id"] = "https://münchen.example/c/1?x=%C3%A9#top"
    quads = to_quads(document, loader=loader)
    assert any(getattr(q.object, "language", None) == "en-us" for q in quads)  # pyld lowercases
    assert any(q.subject.value == document["id"] for q in quads if hasattr(q.subject, "value"))


def test_large_integers_a_double_holds_exactly_are_kept(loader):
    quads = to_quads(_inline(count=2**80), loader=loader)
    assert [q.object.value for q in quads] == ["1.208925819614629E24"]


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("index-on-a-node.json", DataLossError, "an @index is not part of the RDF data"),
        ("index-map-keys.json", DataLossError, "an @index container's keys"),
        ("embedded-context-with-base.json", MalformedInputError, "embedded @context uses @base"),
    ],
)
def test_what_json_ld_keeps_out_of_rdf_or_resolves_elsewhere_is_refused(suite, name, error, words):
    # @index values and index-map keys are not in the RDF (JSON-LD 1.1 §4.6.1), so they could
    # be changed after signing; an embedded @base would escape the relative-IRI refusal.
    with pytest.raises(error, match=words):
        suite.create_proof(fixture(name), key=KEY, verification_method=VM)


def test_a_property_valued_index_keeps_its_keys_and_is_signed(loader):
    document = fixture("index-map-keys.json")
    document["@context"][-1]["notes"]["@index"] = "https://example.edu/vocab#noteKey"
    document["@context"][-1]["noteKey"] = "https://example.edu/vocab#noteKey"
    # the values of a property-valued index map are nodes: each gets its key as noteKey
    document["credentialSubject"]["notes"] = {"key-not-signed": {"id": "https://example.edu/n/1"}}
    quads = to_quads(document, loader=loader)
    assert any(getattr(q.object, "value", None) == "key-not-signed" for q in quads)
