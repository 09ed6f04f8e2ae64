"""RDFC-1.0 canonicalization (``credentials/rdfc.py``): the W3C test suite, agreement with pyld,
refusal of poison graphs, and the N-Quads parser and serializer it rests on."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld

from credentials.errors import CanonicalizationLimitError, MalformedInputError
from credentials.rdfc import (
    IRI,
    RDF_LANGSTRING,
    XSD_STRING,
    BlankNode,
    CanonLimits,
    Literal,
    Quad,
    canonicalize,
    canonicalize_nquads,
    from_pyld_dataset,
    issued_identifiers,
    parse_nquads,
    serialize_quad,
)
from tests.credentials.pyld_reference import pristine_pyld

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SUITE = ASSETS / "rdf-canon"
HOSTILE = ASSETS / "hostile"
REPO = Path(__file__).resolve().parents[2]


def _manifest() -> list[dict[str, str]]:
    with (SUITE / "manifest.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


MANIFEST = _manifest()


def _suite_file(test: str, suffix: str) -> str:
    return (SUITE / "rdfc10" / f"{test}-{suffix}").read_text(encoding="utf-8")


def _hash_algorithm(row: dict[str, str]) -> str:
    return row["hashAlgorithm"] or "sha256"


def _rows(predicate: Any) -> list[Any]:
    return [pytest.param(row, id=row["test"]) for row in MANIFEST if predicate(row)]


POSITIVE = _rows(lambda row: row["rdfc10"] == "TRUE")
WITH_MAP = _rows(lambda row: row["rdfc10map"] == "TRUE")
NEGATIVE = _rows(lambda row: row["rdfc10"] == "RDFC10NegativeEvalTest")


def test_manifest_is_read_completely() -> None:
    # Guards the parametrization below: 64 positive tests, 21 map tests, one negative test.
    assert (len(POSITIVE), len(WITH_MAP), len(NEGATIVE)) == (64, 21, 1)


# --- The W3C RDFC-1.0 test suite -------------------------------------------------------------


@pytest.mark.parametrize("row", POSITIVE)
def test_suite_canonical_nquads_are_byte_exact(row: dict[str, str]) -> None:
    result = canonicalize_nquads(
        _suite_file(row["test"], "in.nq"), hash_algorithm=_hash_algorithm(row)
    )
    assert result == _suite_file(row["test"], "rdfc10.nq")


@pytest.mark.parametrize("row", WITH_MAP)
def test_suite_issued_identifiers_map_matches(row: dict[str, str]) -> None:
    quads = parse_nquads(_suite_file(row["test"], "in.nq"))
    expected = json.loads(_suite_file(row["test"], "rdfc10map.json"))
    assert issued_identifiers(quads, hash_algorithm=_hash_algorithm(row)) == expected


@pytest.mark.parametrize("row", NEGATIVE)
def test_suite_poison_graph_is_refused_with_default_limits(row: dict[str, str]) -> None:
    # test074, a 10-node blank node clique: pyld needs minutes; the default limits end it.
    with pytest.raises(CanonicalizationLimitError, match="max_calls_per_blank_node"):
        canonicalize_nquads(_suite_file(row["test"], "in.nq"))


# --- Agreement with pyld, the reference implementation ---------------------------------------

# Where pyld 3.3.0 cannot be compared:
# * test060 (n-quads escaping): pyld's N-Quads parser decodes only \" \t \n \r \\ (not UCHARs
#   \uXXXX / \UXXXXXXXX, nor \b \f \'), and its serializer escapes only those five, so other
#   control characters come out raw.  RDFC-1.0's canonical N-Quads escapes them; the suite's
#   expected output (checked above) agrees with us.
# * test075: SHA-384; pyld's URDNA2015 only hashes with SHA-256.
# * test074: the poison clique, on which pyld runs for minutes.
PYLD_INCOMPARABLE = {"test060", "test074", "test075"}
PYLD_NQUADS = {
    "algorithm": "URDNA2015",
    "inputFormat": "application/n-quads",
    "format": "application/n-quads",
}


@pytest.mark.parametrize(
    "row", _rows(lambda row: row["rdfc10"] == "TRUE" and row["test"] not in PYLD_INCOMPARABLE)
)
def test_agrees_with_pyld_on_suite_inputs(row: dict[str, str]) -> None:
    text = _suite_file(row["test"], "in.nq")
    assert canonicalize_nquads(text) == jsonld.normalize(text, PYLD_NQUADS)


def _context_loader() -> Any:
    """A pyld document loader over the bundled contexts only (tests never use the network)."""
    documents: dict[str, Any] = {}
    for folder in (REPO / "contexts", ASSETS / "contexts"):
        for entry in json.loads((folder / "index.json").read_text(encoding="utf-8"))["contexts"]:
            documents[entry["url"]] = json.loads(
                (folder / entry["file"]).read_text(encoding="utf-8")
            )

    def load(url: str, options: Any = None) -> dict[str, Any]:
        return {"contextUrl": None, "documentUrl": url, "document": documents[url]}

    return load


@pytest.fixture(scope="module")
def loader() -> Any:
    return _context_loader()


def _to_rdf(document: Any, loader: Any, **options: Any) -> dict[str, Any]:
    with pristine_pyld():
        return jsonld.to_rdf(document, {"documentLoader": loader, **options})


@pytest.mark.parametrize(
    ("document", "canonical"),
    [
        pytest.param(
            "vectors/eddsa-rdfc-2022/employ/signedDataInt.json",
            "vectors/eddsa-rdfc-2022/employ/canonDocDataInt.txt",
            id="vc-di-eddsa-employment-authorization",
        ),
        pytest.param(
            "ob3/test-vector-impl-guide/unsigned.json",
            "ob3/test-vector-impl-guide/document-canon.txt",
            id="ob3-implementation-guide",
        ),
    ],
)
def test_pyld_dataset_of_a_credential_canonicalizes_to_its_test_vector(
    document: str, canonical: str, loader: Any
) -> None:
    credential = json.loads((ASSETS / document).read_text(encoding="utf-8"))
    credential.pop("proof", None)
    quads = from_pyld_dataset(_to_rdf(credential, loader))
    assert canonicalize(quads) == (ASSETS / canonical).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "signed",
    sorted((ASSETS / "ob3" / "signed-examples").glob("*.signed.json")),
    ids=lambda p: p.stem,
)
def test_agrees_with_pyld_on_signed_open_badges(signed: Path, loader: Any) -> None:
    credential = json.loads(signed.read_text(encoding="utf-8"))
    dataset = _to_rdf(credential, loader)
    with pristine_pyld():
        expected = jsonld.normalize(
            credential,
            {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
        )
    assert canonicalize(from_pyld_dataset(dataset)) == expected


def test_pyld_language_and_direction_literals_become_quads(loader: Any) -> None:
    document = {
        "@context": {"@vocab": "urn:ex:"},
        "@id": "urn:ex:s",
        "plain": "x",
        "tagged": {"@value": "colour", "@language": "en-GB"},
        "directed": {"@value": "שלום", "@language": "he", "@direction": "rtl"},
        "typed": {"@value": "7", "@type": "urn:ex:type"},
        "node": {"label": "blank"},
    }
    dataset = _to_rdf(document, loader, rdfDirection="i18n-datatype")
    quads = from_pyld_dataset(dataset)
    objects = {q.predicate.value: q.object for q in quads}
    assert objects["urn:ex:plain"] == Literal("x", XSD_STRING)
    # pyld lower-cases language tags when expanding; the tag is carried through as given.
    assert objects["urn:ex:tagged"] == Literal("colour", RDF_LANGSTRING, "en-gb")
    assert objects["urn:ex:directed"] == Literal("שלום", "https://www.w3.org/ns/i18n#he_rtl")
    assert objects["urn:ex:typed"] == Literal("7", "urn:ex:type")
    assert type(objects["urn:ex:node"]) is BlankNode
    assert canonicalize(quads) == (
        '<urn:ex:s> <urn:ex:directed> "שלום"^^<https://www.w3.org/ns/i18n#he_rtl> .\n'
        "<urn:ex:s> <urn:ex:node> _:c14n0 .\n"
        '<urn:ex:s> <urn:ex:plain> "x" .\n'
        '<urn:ex:s> <urn:ex:tagged> "colour"@en-gb .\n'
        '<urn:ex:s> <urn:ex:typed> "7"^^<urn:ex:type> .\n'
        '_:c14n0 <urn:ex:label> "blank" .\n'
    )


def test_pyld_named_graphs_keep_their_names() -> None:
    triple = {
        "subject": {"type": "blank node", "value": "_:b0"},
        "predicate": {"type": "IRI", "value": "urn:ex:p"},
        "object": {"type": "literal", "value": "o", "datatype": XSD_STRING},
    }
    dataset = {"@default": [triple], "_:g": [triple], "urn:ex:g": [triple]}
    graphs = [q.graph for q in from_pyld_dataset(dataset)]
    assert graphs == [None, BlankNode("g"), IRI("urn:ex:g")]


@pytest.mark.parametrize(
    "triple",
    [
        pytest.param({"subject": {"type": "IRI", "value": "urn:ex:s"}}, id="missing-parts"),
        pytest.param(
            {
                "subject": {"type": "IRI", "value": "urn:ex:s"},
                "predicate": {"type": "blank node", "value": "_:p"},
                "object": {"type": "IRI", "value": "urn:ex:o"},
            },
            id="generalized-rdf-blank-predicate",
        ),
        pytest.param(
            {
                "subject": {"type": "literal", "value": "s", "datatype": XSD_STRING},
                "predicate": {"type": "IRI", "value": "urn:ex:p"},
                "object": {"type": "IRI", "value": "urn:ex:o"},
            },
            id="literal-subject",
        ),
        pytest.param(
            {
                "subject": {"type": "IRI", "value": "urn:ex:s"},
                "predicate": {"type": "IRI", "value": "urn:ex:p"},
                "object": {"type": "literal", "value": "\ud800", "datatype": XSD_STRING},
            },
            id="lone-surrogate",
        ),
    ],
)
def test_pyld_dataset_that_is_not_plain_rdf_is_malformed(triple: dict[str, Any]) -> None:
    with pytest.raises(MalformedInputError, match="RDF dataset"):
        from_pyld_dataset({"@default": [triple]})


# --- Limits: poison graphs are refused, quickly and with a clear reason ----------------------


def _clique(size: int) -> list[Quad]:
    p = IRI("http://example.com/p")
    nodes = [BlankNode(f"e{i}") for i in range(size)]
    return [Quad(a, p, b) for a in nodes for b in nodes]


def test_hostile_twelve_node_clique_is_refused() -> None:
    text = (HOSTILE / "clique-12.nq").read_text(encoding="utf-8")
    assert parse_nquads(text) == _clique(12)
    with pytest.raises(CanonicalizationLimitError) as refused:
        canonicalize_nquads(text)
    # A 400 for the public verify endpoint, with a message naming the limit and its value.
    assert isinstance(refused.value, MalformedInputError)
    assert refused.value.code == "CANONICALIZATION_LIMIT_EXCEEDED"
    assert "more than 128 times" in refused.value.message
    assert "max_calls_per_blank_node" in refused.value.message


def test_call_limit_is_configurable() -> None:
    clique = _clique(4)  # needs 19 Hash N-Degree Quads calls for some blank node
    assert canonicalize(clique).count("\n") == 16
    with pytest.raises(CanonicalizationLimitError, match="more than 5 times"):
        canonicalize(clique, limits=CanonLimits(max_calls_per_blank_node=5))


def test_blank_node_limit_is_configurable() -> None:
    assert len(issued_identifiers(_clique(4))) == 4
    with pytest.raises(CanonicalizationLimitError, match=r"4 blank nodes.*limit of 3"):
        canonicalize(_clique(4), limits=CanonLimits(max_blank_nodes=3))


def test_depth_limit_refuses_long_chains_of_look_alike_blank_nodes() -> None:
    p = IRI("urn:ex:next")
    ring = [Quad(BlankNode(f"r{i}"), p, BlankNode(f"r{(i + 1) % 10}")) for i in range(10)]
    assert canonicalize(ring).count("\n") == 10
    with pytest.raises(CanonicalizationLimitError, match=r"deeper than 3 \(max_depth\)"):
        canonicalize(ring, limits=CanonLimits(max_depth=3))


def test_time_budget_ends_work_that_the_call_limit_would_allow() -> None:
    text = (HOSTILE / "clique-12.nq").read_text(encoding="utf-8")
    limits = CanonLimits(max_calls_per_blank_node=10**9, max_seconds=0.05)
    with pytest.raises(CanonicalizationLimitError, match=r"limit of 0\.05 s \(max_seconds\)"):
        canonicalize_nquads(text, limits=limits)


def test_default_limits_admit_the_suites_computable_poison_graphs() -> None:
    # 044-046 are "poison graphs computable given defined limits"; they must stay computable.
    for test in ("test044", "test045", "test046"):
        assert canonicalize_nquads(_suite_file(test, "in.nq")) == _suite_file(test, "rdfc10.nq")


def test_unknown_hash_algorithm_is_rejected() -> None:
    with pytest.raises(ValueError, match="sha256"):
        canonicalize(_clique(1), hash_algorithm="md5")


def test_hash_algorithm_names_are_accepted_as_the_suite_writes_them() -> None:
    text = _suite_file("test075", "in.nq")
    expected = _suite_file("test075", "rdfc10.nq")
    assert canonicalize_nquads(text, hash_algorithm="SHA384") == expected
    assert canonicalize_nquads(text, hash_algorithm="sha-384") == expected
    assert canonicalize_nquads(text) != expected


# --- Invariance: canonical form does not depend on labels or order (property test) -----------

_IRIS = [IRI(f"urn:ex:{name}") for name in ("a", "b", "c")]
_LITERALS = [Literal("x"), Literal("x", RDF_LANGSTRING, "en"), Literal("1", "urn:ex:int")]


@st.composite
def _datasets(draw: st.DrawFn) -> list[Quad]:
    nodes = [BlankNode(f"n{i}") for i in range(draw(st.integers(1, 5)))]
    resources = st.sampled_from(nodes + _IRIS)
    quad = st.builds(
        Quad,
        resources,
        st.sampled_from(_IRIS[:2]),
        st.one_of(resources, st.sampled_from(_LITERALS)),
        st.one_of(st.none(), st.sampled_from([*nodes[:2], _IRIS[0]])),
    )
    return draw(st.lists(quad, min_size=1, max_size=10))


def _relabel(quads: list[Quad], names: dict[str, str]) -> list[Quad]:
    def term(t: Any) -> Any:
        return BlankNode(names[t.id]) if type(t) is BlankNode else t

    return [Quad(term(q.subject), q.predicate, term(q.object), term(q.graph)) for q in quads]


GENEROUS = CanonLimits(max_calls_per_blank_node=100_000, max_seconds=10.0)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), quads=_datasets())
def test_canonical_form_ignores_blank_node_labels_and_quad_order(
    data: st.DataObject, quads: list[Quad]
) -> None:
    labels = sorted({t.id for q in quads for t in q if type(t) is BlankNode})
    fresh = data.draw(st.permutations([f"z{i}" for i in range(len(labels))]))
    shuffled = data.draw(st.permutations(_relabel(quads, dict(zip(labels, fresh, strict=True)))))

    canonical = canonicalize(quads, limits=GENEROUS)
    assert canonicalize(shuffled, limits=GENEROUS) == canonical
    # The canonical form is a fixed point, and keeps one line per distinct quad.
    assert canonicalize_nquads(canonical, limits=GENEROUS) == canonical
    assert canonical.count("\n") == len(set(quads))


# --- N-Quads parsing --------------------------------------------------------------------------


def test_parser_reads_every_kind_of_term_and_skips_comments() -> None:
    text = (
        "# a comment line\n"
        "\n"
        '<urn:ex:s> <urn:ex:p> "chat"@fr-CA <urn:ex:g> . # trailing comment\r\n'
        '_:b1 <urn:ex:p> "1"^^<urn:ex:\\u0069nt> .\r'
        "  _:b1\t<urn:ex:p>  _:b.2 _:g .  \n"
        '<urn:ex:s><urn:ex:p>"\\U0001F303\\t\\b\\f\\\'\\"\\\\"<urn:ex:g>.'
    )
    assert parse_nquads(text) == [
        Quad(
            IRI("urn:ex:s"),
            IRI("urn:ex:p"),
            Literal("chat", RDF_LANGSTRING, "fr-CA"),
            IRI("urn:ex:g"),
        ),
        Quad(BlankNode("b1"), IRI("urn:ex:p"), Literal("1", "urn:ex:int")),
        Quad(BlankNode("b1"), IRI("urn:ex:p"), BlankNode("b.2"), BlankNode("g")),
        Quad(IRI("urn:ex:s"), IRI("urn:ex:p"), Literal("🌃\t\b\f'\"\\"), IRI("urn:ex:g")),
    ]


def test_explicit_xsd_string_is_the_same_literal_as_a_plain_one() -> None:
    plain, typed = parse_nquads(
        '<urn:ex:s> <urn:ex:p> "v" .\n'
        '<urn:ex:s> <urn:ex:p> "v"^^<http://www.w3.org/2001/XMLSchema#string> .\n'
    )
    assert plain == typed
    assert canonicalize([plain, typed]) == '<urn:ex:s> <urn:ex:p> "v" .\n'


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param("<urn:ex:s> <urn:ex:p> <urn:ex:o>", "not a valid statement", id="no-dot"),
        pytest.param("<s> <urn:ex:p> <urn:ex:o> .", "not an absolute IRI", id="relative-iri"),
        pytest.param('<urn:ex:s> <urn:ex:p> "open .', "not a valid statement", id="open-quote"),
        pytest.param('"s" <urn:ex:p> <urn:ex:o> .', "not a valid statement", id="literal-subject"),
        pytest.param("<urn:ex:s> _:p <urn:ex:o> .", "not a valid statement", id="blank-predicate"),
        pytest.param('<urn:ex:s> <urn:ex:p> "\\x" .', "not a valid statement", id="bad-echar"),
        pytest.param(
            '<urn:ex:s> <urn:ex:p> "\\uD800" .', "not a Unicode scalar value", id="surrogate"
        ),
        pytest.param(
            "<urn:ex:s> <urn:ex:p> <urn:ex:a\\u0020b> .", "not allowed in IRIs", id="iri-space"
        ),
        pytest.param(
            '<urn:ex:s> <urn:ex:p> "o" "g" .', "not a valid statement", id="literal-graph"
        ),
        pytest.param("<urn:ex:s> <urn:ex:p> _:o. .", "not a valid statement", id="two-dots"),
    ],
)
def test_parser_errors_name_the_line(line: str, reason: str) -> None:
    text = f"# header\n<urn:ex:s> <urn:ex:p> <urn:ex:o> .\n{line}\n"
    with pytest.raises(MalformedInputError, match=rf"line 3\b.*{reason}"):
        parse_nquads(text)


# --- Canonical N-Quads serialization ----------------------------------------------------------


def test_serializer_escapes_exactly_what_canonical_nquads_requires() -> None:
    value = "\x00\x07\b\t\n\x0b\f\r\x1f \"'\\\x7f\x80é🌃"
    line = serialize_quad(Quad(IRI("urn:ex:∞"), IRI("urn:ex:p"), Literal(value)))
    assert line == (
        "<urn:ex:∞> <urn:ex:p> "
        '"\\u0000\\u0007\\b\\t\\n\\u000B\\f\\r\\u001F \\"\'\\\\\\u007F\x80é🌃" .\n'
    )
    assert parse_nquads(line) == [Quad(IRI("urn:ex:∞"), IRI("urn:ex:p"), Literal(value))]


@pytest.mark.parametrize(
    ("quad", "line"),
    [
        pytest.param(
            Quad(BlankNode("a"), IRI("urn:ex:p"), Literal("v", XSD_STRING)),
            '_:a <urn:ex:p> "v" .\n',
            id="xsd-string-omitted",
        ),
        pytest.param(
            Quad(
                IRI("urn:ex:s"), IRI("urn:ex:p"), Literal("v", RDF_LANGSTRING, "en"), BlankNode("g")
            ),
            '<urn:ex:s> <urn:ex:p> "v"@en _:g .\n',
            id="language-tag-in-named-graph",
        ),
        pytest.param(
            Quad(IRI("urn:ex:s"), IRI("urn:ex:p"), Literal("1", "urn:ex:int"), IRI("urn:ex:g")),
            '<urn:ex:s> <urn:ex:p> "1"^^<urn:ex:int> <urn:ex:g> .\n',
            id="datatype",
        ),
    ],
)
def test_serializer_writes_one_canonical_line(quad: Quad, line: str) -> None:
    assert serialize_quad(quad) == line
    assert parse_nquads(line) == [quad]


def test_duplicate_quads_count_once() -> None:
    quad = Quad(IRI("urn:ex:s"), IRI("urn:ex:p"), BlankNode("o"))
    assert canonicalize([quad, quad]) == "<urn:ex:s> <urn:ex:p> _:c14n0 .\n"
    assert issued_identifiers([quad, quad]) == {"o": "c14n0"}
