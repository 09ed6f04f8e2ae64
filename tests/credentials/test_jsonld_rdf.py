"""Quads built straight from pyld's node map (``credentials.jsonld.QuadBuilder``) are exactly
what pyld's own ``to_rdf`` gives through ``rdfc.from_pyld_dataset``: the same quads, in the same
order, with the same blank-node labels, and the same errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver

from credentials import jsonld, rdfc
from credentials.errors import MalformedInputError
from credentials.jsonld import DocumentLoader
from tests.credentials.pyld_reference import pristine_pyld

ASSETS = Path(__file__).resolve().parents[1] / "assets"

DOCUMENTS = [
    *sorted((ASSETS / "ob3" / "examples").glob("*.json")),
    *sorted((ASSETS / "ob3" / "signed-examples").glob("*.signed.json")),
    *sorted((ASSETS / "tampered").glob("*.json")),
    ASSETS / "ob3" / "test-vector-impl-guide" / "signed.json",
    ASSETS / "vectors" / "unsigned.json",
    ASSETS / "vectors" / "employmentAuth.json",
]

VOCAB = "https://example.com/vocab#"
# Every branch of JSON-LD to RDF: lists (empty, nested, of values), @json, booleans, doubles,
# integers (small, 1e21 and beyond), xsd:double strings, language strings, named graphs, relative
# and blank-node IRIs, @reverse, and a property that expands to a blank node (dropped).
INLINE = {
    "@context": {
        "@vocab": VOCAB,
        "list": {"@container": "@list"},
        "data": {"@type": "@json"},
        "double": {"@type": "http://www.w3.org/2001/XMLSchema#double"},
        "link": {"@type": "@id"},
        "graph": {"@container": "@graph"},
        "parent": {"@reverse": VOCAB + "child"},
        "secret": "_:hidden",
        "label": {"@language": "en"},
    },
    "id": "https://example.com/thing",
    "list": [1, [2, "two", {"@list": []}], {"link": "https://example.com/a"}, "", True, 2.5],
    "empty": {"@list": []},
    "data": {"b": [1, 2.0, None], "a": "x"},
    "flag": False,
    "pi": 3.14159,
    "big": 10**21,
    "bigger": 123456789012345678901234567890,
    "whole": 4.0,
    "double": ["3", "not a number", 1],
    "label": ["colour", {"@value": "Farbe", "@language": "de"}],
    "link": ["https://example.com/b", "_:b7", "#fragment"],
    "graph": {"id": "https://example.com/inside", "name": "in a graph"},
    "parent": {"id": "https://example.com/mother"},
    "secret": "never emitted",
    "@graph": [{"id": "https://example.com/other", "name": "named"}],
}


def _options(loader: DocumentLoader) -> dict[str, Any]:
    return {
        "documentLoader": loader,
        "contextResolver": ContextResolver(loader.resolved_cache, loader),
        "base": jsonld._RELATIVE_BASE,
        "produceGeneralizedRdf": False,
    }


def reference_quads(document: dict[str, Any], loader: DocumentLoader) -> list[rdfc.Quad]:
    with pristine_pyld():
        dataset = pyld_jsonld.JsonLdProcessor().to_rdf(dict(document), _options(loader))
    return rdfc.from_pyld_dataset(dataset)


def direct_quads(document: dict[str, Any], loader: DocumentLoader) -> list[rdfc.Quad]:
    processor = jsonld._CachingProcessor(loader)
    return processor.to_quads(dict(document), _options(loader))


@pytest.fixture(scope="module")
def loader() -> DocumentLoader:
    return DocumentLoader.bundled().extend(
        DocumentLoader.from_index(ASSETS / "contexts" / "index.json")
    )


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ASSETS)))
def test_quads_equal_pyld_to_rdf_exactly(path: Path, loader: DocumentLoader) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    expected = reference_quads(document, loader)
    assert expected
    assert direct_quads(document, loader) == expected


def test_every_branch_of_json_ld_to_rdf_matches_pyld(loader: DocumentLoader) -> None:
    expected = reference_quads(INLINE, loader)
    quads = direct_quads(INLINE, loader)
    assert quads == expected
    literals = {q.object for q in quads if isinstance(q.object, rdfc.Literal)}
    datatypes = {literal.datatype.rsplit("#", 1)[-1] for literal in literals}
    assert {"JSON", "boolean", "double", "integer", "langString", "string"} <= datatypes
    assert any(q.predicate.value.endswith("#first") for q in quads)  # lists became rdf:first
    assert any(q.graph is not None for q in quads)  # a named graph
    assert not any("hidden" in str(q) or "never emitted" in str(q) for q in quads)


def test_a_relative_iri_inside_a_list_is_refused_as_pyld_dataset_conversion_refuses_it(
    loader: DocumentLoader,
) -> None:
    document = {
        "@context": {"@vocab": VOCAB, "refs": {"@type": "@id", "@container": "@list"}},
        "id": "https://example.com/x",
        "refs": ["https://example.com/ok", "not an iri"],
    }
    with pytest.raises(MalformedInputError, match="object is not a term object"):
        rdfc.from_pyld_dataset(
            pyld_jsonld.JsonLdProcessor().to_rdf(dict(document), _options(loader))
        )
    with pytest.raises(MalformedInputError, match="object is not a term object"):
        direct_quads(document, loader)


def test_generalized_rdf_is_refused_not_imitated(loader: DocumentLoader) -> None:
    options = {**_options(loader), "produceGeneralizedRdf": True}
    with pytest.raises(ValueError, match="generalized RDF"):
        jsonld._CachingProcessor(loader).to_quads(dict(INLINE), options)
