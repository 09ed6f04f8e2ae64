"""A language tag is part of what is signed, so it must be one that canonical N-Quads can carry:
RDF 1.1 N-Quads LANGTAG (``[a-zA-Z]+ ('-' [a-zA-Z0-9]+)*``, BCP 47's syntax), which also bounds
the `i18n-datatype` IRI a directional string becomes.  Anything else could write further
statements into the canonical form — two different documents with one signature — so it is
refused as data loss (DATA_LOSS_DETECTION_ERROR).  Fixtures in tests/assets/proofs/."""

from __future__ import annotations

import copy

import pytest

from credentials import jsonld
from credentials.errors import DataLossError
from credentials.jsonld import DocumentLoader
from tests.conftest import load_json

FORGING = load_json("proofs/language-tag-forging-a-second-statement.json")


@pytest.fixture(scope="module")
def loader() -> DocumentLoader:
    return DocumentLoader.bundled()


def test_a_language_tag_cannot_forge_a_statement_into_the_canonical_form(loader):
    # What the forging tag would pass for: the same grade in English, and an honours statement.
    honest = copy.deepcopy(FORGING)
    honest["credentialSubject"]["grade"] = {"@value": "C", "@language": "en"}
    honest["credentialSubject"]["honours"] = {"@value": "none", "@language": "en"}
    assert "honours" in jsonld.canonicalize(honest, loader=loader)
    with pytest.raises(DataLossError, match="language tag"):
        jsonld.canonicalize(FORGING, loader=loader)


@pytest.mark.parametrize(
    "fixture",
    ["language-tag-forging-a-second-statement.json", "language-tag-with-a-space.json"],
)
def test_a_language_tag_n_quads_cannot_carry_is_data_loss(loader, fixture):
    with pytest.raises(DataLossError) as refused:
        jsonld.to_quads(load_json(f"proofs/{fixture}"), loader=loader)
    assert refused.value.code == "DATA_LOSS_DETECTION_ERROR"


@pytest.mark.parametrize("tag", ["en", "en-GB", "zh-Hant-TW", "de-CH-1996", "x-private"])
def test_well_formed_language_tags_are_signed_as_written_lower_cased(loader, tag):
    document = copy.deepcopy(FORGING)
    document["credentialSubject"]["grade"] = {"@value": "C", "@language": tag}
    motto = {"@value": "Lux", "@language": tag, "@direction": "rtl"}
    document["credentialSubject"]["motto"] = motto
    canonical = jsonld.canonicalize(document, loader=loader)
    assert f'"C"@{tag.lower()} .' in canonical
    assert f"<https://www.w3.org/ns/i18n#{tag.lower()}_rtl>" in canonical
