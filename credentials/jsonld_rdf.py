"""JSON-LD 1.1 "Deserialize JSON-LD to RDF" (JSON-LD 1.1 API §8.1) from pyld's node map to quads.

pyld's ``to_rdf`` builds a dataset of small dicts that :func:`credentials.rdfc.from_pyld_dataset`
then converts; this module walks pyld's node map once and builds :class:`~credentials.rdfc.Quad`
terms directly, mirroring pyld 3.3.0's ``_graph_to_rdf``, ``_object_to_rdf`` and ``_list_to_rdf``
step for step (same order, same blank-node identifiers, same skipped triples, same checks as
``from_pyld_dataset``) and reusing pyld's own value conversions.  Tests compare the quads with
``from_pyld_dataset(pyld.to_rdf(...))`` exactly, list for list, on every vector and example.

Options Credfolio never uses are refused rather than imitated: generalized RDF and
``rdfDirection``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pyld import jsonld

from . import rdfc
from .errors import MalformedInputError

_RDF_TYPE = jsonld.RDF_TYPE
_RDF_FIRST = rdfc.IRI(jsonld.RDF_FIRST)
_RDF_REST = rdfc.IRI(jsonld.RDF_REST)
_RDF_NIL = rdfc.IRI(jsonld.RDF_NIL)

Term = rdfc.IRI | rdfc.BlankNode | rdfc.Literal


class QuadBuilder:
    """Quads of one document; converts each distinct term once (as ``from_pyld_dataset`` does)."""

    def __init__(self, issuer: Any, options: Mapping[str, Any]) -> None:
        if options.get("produceGeneralizedRdf") or options.get("rdfDirection") is not None:
            raise ValueError("generalized RDF and rdfDirection are not supported")
        self.issuer = issuer
        self.json_ld_11 = options["processingMode"] == "json-ld-1.1"
        self.quads: list[rdfc.Quad] = []
        self._terms: dict[tuple[Any, ...], Term] = {}

    # -- terms: the checks of rdfc._pyld_node, in the same words ---------------------------------

    def _term(self, kind: str, value: Any, datatype: Any, language: Any, where: str) -> Term:
        key = (kind, value, datatype, language)
        try:
            cached = self._terms.get(key)
        except TypeError:  # an unhashable value: not a string, refused below
            cached = None
        if cached is not None:
            return cached
        if not isinstance(value, str):
            raise MalformedInputError(f"RDF dataset: {where} is not a term object")
        if not value.isascii() and rdfc._SURROGATE.search(value):
            raise MalformedInputError(f"RDF dataset: {where} contains a lone surrogate code point")
        term: Term
        if kind == "IRI":
            term = rdfc.IRI(value)
        elif kind == "blank node":
            term = rdfc.BlankNode(value[2:])
        else:
            resolved = datatype or (rdfc.RDF_LANGSTRING if language else rdfc.XSD_STRING)
            if not isinstance(resolved, str) or not (language is None or isinstance(language, str)):
                raise MalformedInputError(f"RDF dataset: {where} has a malformed datatype/language")
            term = rdfc.Literal(value, resolved, language or None)
        self._terms[key] = term
        return term

    def _node(self, value: str, where: str) -> Term:
        kind = "blank node" if value.startswith("_:") else "IRI"
        return self._term(kind, value, None, None, where)

    # -- pyld 3.3.0 _graph_to_rdf --------------------------------------------------------------

    def add_graph(self, name: str, graph: Mapping[str, Mapping[str, Any]]) -> None:
        graph_term: rdfc.GraphName
        if name == "@default":
            graph_term = None
        elif name.startswith("_:"):
            graph_term = rdfc.BlankNode(name[2:])
        else:
            graph_term = rdfc.IRI(name)
        is_absolute: Callable[[Any], bool] = jsonld._is_absolute_iri
        for id_, node in sorted(graph.items()):
            for property_, items in sorted(node.items()):
                if property_ == "@type":
                    property_ = _RDF_TYPE
                elif jsonld._is_keyword(property_):
                    continue
                for item in items:
                    # skip relative IRI subjects and predicates; blank-node predicates are
                    # generalized RDF
                    if not (is_absolute(id_) and is_absolute(property_)):
                        continue
                    if property_.startswith("_:"):
                        continue
                    subject = self._node(id_, "subject")
                    predicate = self._term("IRI", property_, None, None, "predicate")
                    obj = self._object(item, graph_term)
                    if obj is not None:  # None: a relative IRI
                        self.quads.append(rdfc.Quad(subject, predicate, obj, graph_term))  # type: ignore[arg-type]

    # -- pyld 3.3.0 _object_to_rdf -------------------------------------------------------------

    def _object(self, item: Any, graph: rdfc.GraphName) -> Term | None:
        if jsonld._is_value(item):
            value = item["@value"]
            datatype = item.get("@type")
            language = None
            if datatype == "@json":
                value = jsonld.canonicalize(value).decode("UTF-8")
                datatype = jsonld.RDF_JSON_LITERAL
            elif jsonld._is_bool(value):
                value = "true" if value else "false"
                datatype = datatype or jsonld.XSD_BOOLEAN
            elif jsonld._is_double(value):
                value = jsonld._canonicalize_double(value)
                datatype = datatype or jsonld.XSD_DOUBLE
            elif datatype == jsonld.XSD_DOUBLE:
                try:
                    float_value = float(value)
                except (ValueError, TypeError):
                    pass  # kept as it is
                else:
                    value = jsonld._canonicalize_double(float_value)
            elif self.json_ld_11 and jsonld._is_integer(value) and abs(value) >= 1e21:
                value = jsonld._canonicalize_double(value)
                datatype = datatype or jsonld.XSD_DOUBLE
            elif jsonld._is_integer(value):
                value = str(int(value))
                datatype = datatype or jsonld.XSD_INTEGER
            elif "@language" in item:
                datatype = datatype or jsonld.RDF_LANGSTRING
                language = item["@language"]
            else:
                datatype = datatype or jsonld.XSD_STRING
            return self._term("literal", value, datatype, language, "object")
        if jsonld._is_list(item):
            return self._list(item["@list"], graph)
        id_ = item["@id"] if jsonld._is_object(item) else item
        if not id_.startswith("_:") and not jsonld._is_absolute_iri(id_):
            return None  # skip relative IRIs
        return self._node(id_, "object")

    # -- pyld 3.3.0 _list_to_rdf ---------------------------------------------------------------

    def _list(self, items: list[Any], graph: rdfc.GraphName) -> Term:
        last = items.pop() if items else None
        head: Term = rdfc.BlankNode(self.issuer.get_id()[2:]) if last else _RDF_NIL
        subject = head
        for item in items:
            obj = self._object(item, graph)
            following = rdfc.BlankNode(self.issuer.get_id()[2:])
            self._list_entry(subject, obj, following, graph)
            subject = following
        if last:
            obj = self._object(last, graph)
            self._list_entry(subject, obj, _RDF_NIL, graph)
        return head

    def _list_entry(
        self, subject: Term, obj: Term | None, rest: Term, graph: rdfc.GraphName
    ) -> None:
        if obj is None:  # pyld keeps the triple with no object; from_pyld_dataset refuses it
            raise MalformedInputError("RDF dataset: object is not a term object")
        self.quads.append(rdfc.Quad(subject, _RDF_FIRST, obj, graph))  # type: ignore[arg-type]
        self.quads.append(rdfc.Quad(subject, _RDF_REST, rest, graph))  # type: ignore[arg-type]
