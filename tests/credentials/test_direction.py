"""A value's base direction (`@direction`) is signed, as the reference implementation signs it.

JSON-LD 1.1 API §8.1.2 (Object to RDF Conversion), with the ``rdfDirection`` option set to
``i18n-datatype`` as the Digital Bazaar stack sets it for eddsa-rdfc-2022: a string with a base
direction becomes a literal whose datatype is ``https://www.w3.org/ns/i18n#`` + the lower-cased
language + ``_`` + the direction.  Fixtures in tests/assets/proofs/ (signed by the Digital
Bazaar stack; generate.py there).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from pyld import jsonld as pyld_jsonld

from credentials import jsonld, rdfc
from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, PASSED, Verifier
from issuer_keys.keys import IssuerKey
from tests.conftest import load_json
from tests.credentials.pyld_reference import pristine_pyld

NOW = datetime(2025, 6, 1, tzinfo=UTC)
I18N = "https://www.w3.org/ns/i18n#"
UNSIGNED = load_json("proofs/direction-unsigned.json")


@pytest.fixture(scope="module")
def loader() -> DocumentLoader:
    return DocumentLoader.bundled()


@pytest.fixture(scope="module")
def verifier(loader: DocumentLoader) -> Verifier:
    return Verifier.offline(loader=loader, now=lambda: NOW)


def objects_of(quads: list[rdfc.Quad], predicate: str) -> set[rdfc.Literal]:
    return {q.object for q in quads if q.predicate.value == predicate}  # type: ignore[misc]


def test_a_directional_string_becomes_an_i18n_datatype_literal(loader):
    quads = jsonld.to_quads(UNSIGNED, loader=loader)
    assert objects_of(quads, "https://schema.org/name") >= {
        rdfc.Literal("Certificate of completion", f"{I18N}en-gb_ltr"),
        rdfc.Literal("جامعة المثال", f"{I18N}ar_rtl"),
        rdfc.Literal("Example University", rdfc.RDF_LANGSTRING, "en"),
    }
    # No language: the datatype starts with the underscore.
    assert objects_of(quads, "https://schema.org/description") == {
        rdfc.Literal("شهادة إتمام", f"{I18N}_rtl")
    }
    # A language map whose term has a direction: every value carries it.
    assert objects_of(quads, "https://schema.org/alternativeHeadline") == {
        rdfc.Literal("בוגר", f"{I18N}he_rtl"),
        rdfc.Literal("خريج", f"{I18N}ar_rtl"),
    }


def test_the_canonical_form_is_what_pyld_gives_with_rdf_direction_i18n_datatype(loader):
    with pristine_pyld():
        expected = pyld_jsonld.normalize(
            copy.deepcopy(UNSIGNED),
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": loader,
                "rdfDirection": "i18n-datatype",
            },
        )
    assert jsonld.canonicalize(UNSIGNED, loader=loader) == expected


def test_what_digital_bazaar_signs_with_directional_values_verifies(verifier):
    result = verifier.verify(load_json("proofs/direction-signed-by-digital-bazaar.json"))
    assert result.check("proof").status == PASSED, result.errors
    assert result.verified, result.errors


@pytest.mark.parametrize(
    "fixture", ["direction-ltr-switched-to-rtl.json", "direction-removed.json"]
)
def test_changing_a_direction_after_signing_breaks_the_signature(verifier, fixture):
    result = verifier.verify(load_json(f"proofs/{fixture}"))
    assert result.check("proof").status == FAILED
    assert not result.verified


def test_a_direction_switched_after_credfolio_signed_is_never_verified(loader, verifier):
    key = IssuerKey.from_seed(bytes(range(32)))
    did = f"did:key:{key.public_key_multibase}"
    document = {**copy.deepcopy(UNSIGNED), "issuer": {**UNSIGNED["issuer"], "id": did}}
    signed = Eddsa2022Suite(loader=loader).create_proof(
        document, key=key, verification_method=key.verification_method_id(did)
    )
    assert verifier.verify(signed).verified
    for change in (
        lambda d: d["name"].update({"@direction": "rtl"}),
        lambda d: d["issuer"]["name"][1].update({"@direction": "ltr"}),
        lambda d: d["description"].pop("@direction"),
    ):
        tampered = copy.deepcopy(signed)
        change(tampered)
        assert verifier.verify(tampered).check("proof").status == FAILED


def test_quads_are_those_of_pyld_to_rdf_with_the_same_option_list_for_list(loader):
    options = {
        "documentLoader": loader,
        "base": jsonld._RELATIVE_BASE,
        "rdfDirection": jsonld.RDF_DIRECTION,
    }
    with pristine_pyld():
        dataset = pyld_jsonld.JsonLdProcessor().to_rdf(copy.deepcopy(UNSIGNED), dict(options))
    expected = rdfc.from_pyld_dataset(dataset)
    direct = jsonld._CachingProcessor(loader).to_quads(copy.deepcopy(UNSIGNED), options)
    assert direct == expected


def test_the_compound_literal_form_is_refused_not_imitated(loader):
    options = {"documentLoader": loader, "rdfDirection": "compound-literal"}
    with pytest.raises(ValueError, match="compound-literal"):
        jsonld._CachingProcessor(loader).to_quads(copy.deepcopy(UNSIGNED), options)
