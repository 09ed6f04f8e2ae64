"""The JSON-LD layer: only bundled, hash-checked contexts; never the network; no silent data
loss; canonical N-Quads identical to pyld's reference output."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld

from credentials import jsonld as ours_jsonld
from credentials.errors import ContextNotAllowedError, DataLossError, MalformedInputError
from credentials.jsonld import (
    DEFAULT_CONTEXTS_DIR,
    OB_V3_CONTEXT,
    PYLD_IS_ABSOLUTE_IRI,
    VC_V2_CONTEXT,
    DocumentLoader,
    canonicalize,
    check_contexts,
)
from tests.conftest import ASSETS, load_json
from tests.credentials.pyld_reference import pristine_pyld

INDEX = json.loads((DEFAULT_CONTEXTS_DIR / "index.json").read_text())


@pytest.fixture(scope="module")
def loader() -> DocumentLoader:
    return DocumentLoader.bundled()


def test_the_loader_serves_exactly_the_indexed_contexts(loader):
    assert loader.urls == {entry["url"] for entry in INDEX["contexts"]}
    for url in (VC_V2_CONTEXT, OB_V3_CONTEXT):
        assert loader(url)["document"]["@context"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/context.jsonld",
        "http://www.w3.org/ns/credentials/v2",  # http, not https: a different URL
        "https://www.w3.org/ns/credentials/v2/",
        "file:///etc/passwd",
    ],
)
def test_any_other_url_is_refused_by_name(loader, url):
    with pytest.raises(ContextNotAllowedError, match="never fetches") as info:
        loader(url)
    assert info.value.url == url


def test_a_document_with_a_remote_context_is_refused_without_any_connection(loader):
    """Sockets are blocked for the whole suite: a fetch attempt would raise SocketBlockedError,
    so getting ContextNotAllowedError proves no connection was even tried."""
    document = {
        "@context": [VC_V2_CONTEXT, "https://attacker.example/ctx.jsonld"],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(ContextNotAllowedError, match=r"attacker\.example"):
        canonicalize(document, loader=loader)


def test_pyld_default_loader_is_never_consulted(loader, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("pyld's default (network) document loader was called")

    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", forbidden)
    document = load_json("ob3/examples/basicOpenBadgeCredential.json")
    assert canonicalize(document, loader=loader)


def test_the_loader_hands_out_copies(loader):
    loader(VC_V2_CONTEXT)["document"]["@context"]["id"] = "tampered"
    assert loader(VC_V2_CONTEXT)["document"]["@context"]["id"] == "@id"


def test_a_tampered_context_file_is_refused_at_load_time(tmp_path):
    folder = tmp_path / "contexts"
    shutil.copytree(DEFAULT_CONTEXTS_DIR, folder)
    (folder / "multikey-v1.jsonld").write_text("{}")
    with pytest.raises(RuntimeError, match="multikey"):
        DocumentLoader.bundled(folder)


def test_a_missing_context_file_is_refused_at_load_time(tmp_path):
    folder = tmp_path / "contexts"
    shutil.copytree(DEFAULT_CONTEXTS_DIR, folder)
    (folder / "ob-v3p0-context-3.0.3.json").unlink()
    with pytest.raises(RuntimeError, match="missing"):
        DocumentLoader.bundled(folder)


@pytest.mark.parametrize(
    "inline",
    [
        {"@base": "https://attacker.example/"},
        {"@import": "https://attacker.example/ctx.jsonld"},
        {"term": {"@id": "https://x.example/t", "@context": {"@base": "https://a.example/"}}},
    ],
    ids=["base", "import", "nested-base"],
)
def test_inline_contexts_may_not_change_the_base_or_import(loader, inline):
    document = {"@context": [VC_V2_CONTEXT, inline], "type": ["VerifiableCredential"]}
    with pytest.raises(MalformedInputError, match=r"@base|@import"):
        check_contexts(document, loader=loader)


def test_a_scoped_context_url_outside_the_allow_list_is_refused(loader):
    inline = {"term": {"@id": "https://x.example/t", "@context": "https://evil.example/c"}}
    document = {"@context": [VC_V2_CONTEXT, inline], "type": ["VerifiableCredential"]}
    with pytest.raises(ContextNotAllowedError):
        check_contexts(document, loader=loader)


def test_a_keyword_lookalike_property_is_data_loss(loader):
    document = load_json("ob3/examples/basicOpenBadgeCredential.json")
    document["@comment"] = "dropped by JSON-LD"
    with pytest.raises(DataLossError):
        canonicalize(document, loader=loader)


def test_invalid_json_ld_is_malformed_with_a_readable_message(loader):
    document = {"@context": [VC_V2_CONTEXT], "@id": 42}
    with pytest.raises(MalformedInputError, match="invalid JSON-LD"):
        canonicalize(document, loader=loader)


def test_redefining_a_protected_term_is_malformed(loader):
    document = {
        "@context": [VC_V2_CONTEXT, {"name": "https://attacker.example/name"}],
        "type": ["VerifiableCredential"],
        "name": "x",
    }
    with pytest.raises(MalformedInputError, match="protected"):
        canonicalize(document, loader=loader)


REFERENCE_DOCUMENTS = [
    *sorted((ASSETS / "ob3" / "examples").glob("*.json")),
    ASSETS / "vectors" / "unsigned.json",
    ASSETS / "ob3" / "test-vector-impl-guide" / "unsigned.json",
]


def reference_nquads(document, documents_from):
    with pristine_pyld():
        return pyld_jsonld.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": documents_from,
            },
        )


@pytest.mark.parametrize("path", REFERENCE_DOCUMENTS, ids=lambda p: p.stem)
def test_canonical_nquads_equal_pyld_reference(loader, path):
    """pyld stays the reference: our bounded canonicalizer must agree byte for byte."""
    document = json.loads(path.read_text())
    document.pop("proof", None)
    ours = canonicalize(document, loader=loader)
    assert ours == reference_nquads(document, DocumentLoader.bundled())


ABSOLUTE_IRI_SAMPLES = [
    "https://example.com/a b",
    "https://example.com/\n",
    "https://example.com/x\n",
    "_:b0",
    "a:b",
    "a+b-c.d:e",
    "1a:b",
    ":b",
    "a:",
    "",
    "did:key:z6Mk#z6Mk",
    "urn:uuid:1\t2",
    "ext:Foo",
    "é:x",
]


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(value=st.sampled_from(ABSOLUTE_IRI_SAMPLES) | st.text(max_size=20))
def test_compiled_absolute_iri_check_answers_as_pyld(value):
    assert ours_jsonld._is_absolute_iri(value) == bool(PYLD_IS_ABSOLUTE_IRI(value))
    assert ours_jsonld._is_absolute_iri(value) == bool(PYLD_IS_ABSOLUTE_IRI(value))  # memoized


@pytest.mark.parametrize("value", [None, 5, ["a:b"], {"@id": "a:b"}])
def test_compiled_absolute_iri_check_refuses_non_strings_as_pyld(value):
    assert ours_jsonld._is_absolute_iri(value) is False
    assert not PYLD_IS_ABSOLUTE_IRI(value)


def test_pyld_itself_is_changed_only_in_its_absolute_iri_check():
    assert pyld_jsonld._is_absolute_iri is ours_jsonld._is_absolute_iri
    assert PYLD_IS_ABSOLUTE_IRI.__module__ == "pyld.jsonld"


def test_memoized_context_processing_matches_pyld_in_any_order():
    """Processed contexts are memoized per loader; interleaving documents that share and do not
    share type-scoped contexts must never change any output."""
    loader = DocumentLoader.bundled()
    documents = []
    for path in REFERENCE_DOCUMENTS[:-2]:
        document = json.loads(path.read_text())
        document.pop("proof", None)
        documents.append(document)
    references = [reference_nquads(d, DocumentLoader.bundled()) for d in documents]
    for order in (documents, list(reversed(documents)), documents):
        for document in order:
            assert canonicalize(document, loader=loader) == references[documents.index(document)]


def test_contexts_written_in_the_document_itself_are_never_memoized():
    loader = DocumentLoader.bundled()
    document = {
        "@context": [VC_V2_CONTEXT, {"colour": "https://example.com/vocab#colour"}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:s", "colour": "green"},
    }
    first = canonicalize(document, loader=loader)
    document["@context"][1]["colour"] = "https://example.com/vocab#hue"
    second = canonicalize(document, loader=loader)
    assert "vocab#colour" in first and "vocab#hue" in second


def test_a_context_cached_by_one_loader_is_not_served_by_another():
    extended = DocumentLoader.bundled().extend(
        DocumentLoader.from_index(ASSETS / "contexts" / "index.json")
    )
    document = load_json("vectors/employmentAuth.json")
    assert canonicalize(document, loader=extended)
    with pytest.raises(ContextNotAllowedError, match="citizenship"):
        canonicalize(document, loader=DocumentLoader.bundled())
