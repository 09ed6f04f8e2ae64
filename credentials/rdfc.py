"""RDFC-1.0 (W3C RDF Dataset Canonicalization) in pure Python, with hard limits on its work.

Also holds the small RDF data model, the N-Quads parser and the canonical N-Quads serializer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import Any, NamedTuple

from credentials.budget import WorkBudget, budget_or_default
from credentials.errors import CanonicalizationLimitError, MalformedInputError

__all__ = [
    "IRI",
    "RDF_LANGSTRING",
    "XSD_STRING",
    "BlankNode",
    "CanonLimits",
    "Literal",
    "Quad",
    "canonicalize",
    "canonicalize_nquads",
    "from_pyld_dataset",
    "issued_identifiers",
    "parse_nquads",
    "serialize_quad",
]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# ---------------------------------------------------------------------------------------------
# Data model
# ---------------------------------------------------------------------------------------------
# Frozen dataclasses rather than NamedTuples: as tuples, IRI("x") would equal BlankNode("x").


@dataclass(frozen=True, slots=True)
class IRI:
    """An absolute IRI, stored unescaped (``value`` has no angle brackets)."""

    value: str


@dataclass(frozen=True, slots=True)
class BlankNode:
    """A blank node; ``id`` is its label without the ``_:`` prefix."""

    id: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal: lexical form, datatype IRI and, for ``rdf:langString``, a language tag."""

    value: str
    datatype: str = XSD_STRING
    language: str | None = None


Subject = IRI | BlankNode
Object = IRI | BlankNode | Literal
GraphName = IRI | BlankNode | None


class Quad(NamedTuple):
    """An RDF quad; ``graph`` is ``None`` for the default graph."""

    subject: Subject
    predicate: IRI
    object: Object
    graph: GraphName = None


# ---------------------------------------------------------------------------------------------
# Canonical N-Quads serialization (RDFC-1.0 §"Canonical N-Quads", RDF 1.2 N-Quads §canonical)
# ---------------------------------------------------------------------------------------------
# In literals: BS, HT, LF, FF, CR, '"' and '\' as ECHAR; every other character in U+0000-U+001F
# and U+007F as UCHAR (\uXXXX with upper-case hex); everything else, and all IRIs, verbatim.

_ESCAPES: dict[int, str] = {c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F]}
_ESCAPES.update(
    {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
)
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f]')


def _literal_text(term: Literal) -> str:
    value = term.value
    if _NEEDS_ESCAPE.search(value):
        value = value.translate(_ESCAPES)
    if term.language:
        return f'"{value}"@{term.language}'
    if term.datatype == XSD_STRING:  # xsd:string is implicit in canonical N-Quads
        return f'"{value}"'
    return f'"{value}"^^<{term.datatype}>'


def _term_text(term: IRI | BlankNode | Literal) -> str:
    if type(term) is IRI:
        return f"<{term.value}>"
    if type(term) is BlankNode:
        return f"_:{term.id}"
    if type(term) is Literal:
        return _literal_text(term)
    raise TypeError(f"not an RDF term: {term!r}")


def _line(s: str, p: str, o: str, g: str | None) -> str:
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


def serialize_quad(quad: Quad) -> str:
    """Return ``quad`` as one line of canonical N-Quads, ending with ``"\\n"``.

    Blank nodes keep their labels; canonical labels come from :func:`canonicalize`.
    """
    graph = quad.graph
    return _line(
        _term_text(quad.subject),
        _term_text(quad.predicate),
        _term_text(quad.object),
        None if graph is None else _term_text(graph),
    )


# ---------------------------------------------------------------------------------------------
# N-Quads parser (RDF 1.1 N-Quads grammar)
# ---------------------------------------------------------------------------------------------

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_IRIREF = rf'<((?:[^\x00-\x20<>"{{}}|^`\\]|{_UCHAR})*)>'
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_:"  # N-Quads: PN_CHARS_U includes ':'
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_BNODE = rf"_:([{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
_LITERAL = (
    rf'"((?:[^"\\\n\r]|\\[tbnrf"\'\\]|{_UCHAR})*)"'
    rf"(?:\^\^{_IRIREF}|@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*))?"
)
_W = r"[ \t]*"
_STATEMENT = re.compile(
    rf"{_W}(?:{_IRIREF}|{_BNODE}){_W}"  # subject: groups 1, 2
    rf"{_IRIREF}{_W}"  # predicate: group 3
    rf"(?:{_IRIREF}|{_BNODE}|{_LITERAL}){_W}"  # object: 4, 5, literal 6 (^^ 7, @ 8)
    rf"(?:(?:{_IRIREF}|{_BNODE}){_W})?"  # graph label: 9, 10
    rf"\.{_W}(?:#.*)?"
)
_BLANK_OR_COMMENT = re.compile(rf"{_W}(?:#.*)?")
_ESCAPE_SEQ = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Characters that may not appear in an IRI, even written as a UCHAR (RFC 3987; N-Quads IRIREF).
_BAD_IRI_CHAR = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unescape_match(match: re.Match[str]) -> str:
    hex4, hex8, echar = match.groups()
    if echar is not None:
        return _ECHARS[echar]
    code = int(hex4 or hex8, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"\\u escape {match.group(0)} is not a Unicode scalar value")
    return chr(code)


def _unescape(text: str) -> str:
    return _ESCAPE_SEQ.sub(_unescape_match, text) if "\\" in text else text


def _iri(text: str) -> IRI:
    value = _unescape(text)
    if not _SCHEME.match(value):
        raise ValueError(f"<{value}> is not an absolute IRI")
    if _BAD_IRI_CHAR.search(value) or _SURROGATE.search(value):
        raise ValueError(f"IRI <{text}> contains a character not allowed in IRIs")
    return IRI(value)


def parse_nquads(text: str) -> list[Quad]:
    """Parse an N-Quads document into quads, in document order (duplicates kept).

    Raises :class:`MalformedInputError` naming the first line that is not valid N-Quads.
    """
    quads: list[Quad] = []
    # N-Quads lines end with LF or CR (EOL ::= [#xD#xA]+); str.splitlines() would also split
    # on characters such as U+2028 that are legal inside literals.
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        match = _STATEMENT.fullmatch(line)
        if match is None:
            if _BLANK_OR_COMMENT.fullmatch(line):
                continue
            raise MalformedInputError(
                f"N-Quads line {number} is not a valid statement: {line[:80]!r}"
            )
        g = match.groups()
        try:
            if _SURROGATE.search(line):
                raise ValueError("the line contains a lone surrogate code point")
            subject: Subject = _iri(g[0]) if g[0] is not None else BlankNode(g[1])
            predicate = _iri(g[2])
            obj: Object
            if g[3] is not None:
                obj = _iri(g[3])
            elif g[4] is not None:
                obj = BlankNode(g[4])
            elif g[6] is not None:
                obj = Literal(_unescape(g[5]), _iri(g[6]).value)
            elif g[7] is not None:
                obj = Literal(_unescape(g[5]), RDF_LANGSTRING, g[7])
            else:
                obj = Literal(_unescape(g[5]))
            graph: GraphName = None
            if g[8] is not None:
                graph = _iri(g[8])
            elif g[9] is not None:
                graph = BlankNode(g[9])
        except ValueError as exc:
            raise MalformedInputError(f"N-Quads line {number}: {exc}") from None
        quads.append(Quad(subject, predicate, obj, graph))
    return quads


# ---------------------------------------------------------------------------------------------
# pyld's RDF dataset (``jsonld.to_rdf`` output) to quads
# ---------------------------------------------------------------------------------------------


def _pyld_node(node: Any, where: str) -> IRI | BlankNode | Literal:
    if not isinstance(node, Mapping) or not isinstance(node.get("value"), str):
        raise MalformedInputError(f"RDF dataset: {where} is not a term object")
    kind, value = node.get("type"), node["value"]
    if not value.isascii() and _SURROGATE.search(value):
        raise MalformedInputError(f"RDF dataset: {where} contains a lone surrogate code point")
    if kind == "IRI":
        return IRI(value)
    if kind == "blank node":
        if not value.startswith("_:"):
            raise MalformedInputError(f"RDF dataset: {where} blank node {value!r} lacks '_:'")
        return BlankNode(value[2:])
    if kind == "literal":
        language = node.get("language")
        datatype = node.get("datatype") or (RDF_LANGSTRING if language else XSD_STRING)
        if not isinstance(datatype, str) or not (language is None or isinstance(language, str)):
            raise MalformedInputError(f"RDF dataset: {where} has a malformed datatype/language")
        return Literal(value, datatype, language or None)
    raise MalformedInputError(f"RDF dataset: {where} has unexpected type {kind!r}")


def from_pyld_dataset(dataset: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[Quad]:
    """Convert pyld's ``to_rdf`` dataset (graph name -> triples) into quads.

    ``'@default'`` is the default graph; ``'_:x'`` names a blank-node graph.  Raises
    :class:`MalformedInputError` for anything that is not plain RDF (e.g. a blank-node
    predicate from generalized RDF, or a literal subject).
    """
    # pyld repeats the same IRIs and blank nodes over and over: convert each distinct term once
    # (which also lets later dict/set look-ups short-circuit on identity).
    terms: dict[tuple[Any, ...], IRI | BlankNode | Literal] = {}

    def term(triple: Mapping[str, Any], where: str) -> IRI | BlankNode | Literal:
        node: Any = None
        key: tuple[Any, ...] = ()
        converted: IRI | BlankNode | Literal | None = None
        try:
            node = triple.get(where)
            key = (node["type"], node["value"], node.get("datatype"), node.get("language"))
            converted = terms.get(key)
        except (TypeError, KeyError, AttributeError):
            key, converted = (), None
        if converted is None:
            converted = _pyld_node(node, where)
            if key:
                terms[key] = converted
        return converted

    quads: list[Quad] = []
    for name, triples in dataset.items():
        graph: GraphName
        if not isinstance(name, str):
            raise MalformedInputError("RDF dataset: a graph name is not a string")
        if name == "@default":
            graph = None
        elif name.startswith("_:"):
            graph = BlankNode(name[2:])
        else:
            graph = IRI(name)
        for triple in triples:
            subject, predicate, obj = (
                term(triple, "subject"),
                term(triple, "predicate"),
                term(triple, "object"),
            )
            if isinstance(subject, Literal):
                raise MalformedInputError("RDF dataset: a subject is a literal")
            if not isinstance(predicate, IRI):
                raise MalformedInputError("RDF dataset: a predicate is not an IRI")
            quads.append(Quad(subject, predicate, obj, graph))
    return quads


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CanonLimits:
    """How much work one canonicalization may do before it is refused.

    RDFC-1.0 is exponential in the worst case ("poison" datasets, RDFC-1.0 §8 Security
    Considerations); the spec asks implementations to bound Hash N-Degree Quads.  Exceeding any
    limit raises :class:`CanonicalizationLimitError`.
    """

    #: Distinct blank nodes in the input dataset.
    max_blank_nodes: int = 2_000
    #: Calls of Hash N-Degree Quads (§4.8) for any single blank node, counting recursion.  The
    #: suite's computable poison graphs (tests 044-046) need 43; its 10-node clique (test074)
    #: passes 128 after about 60 ms.  A chain or list of n look-alike blank nodes needs about n.
    max_calls_per_blank_node: int = 128
    #: Nesting of Hash N-Degree Quads recursion (a chain of look-alike blank nodes).  Also keeps
    #: us well clear of Python's own recursion limit.
    max_depth: int = 256
    #: Wall-clock seconds for the whole canonicalization.
    max_seconds: float = 1.0


_DEFAULT_LIMITS = CanonLimits()
_TIME_CHECK_EVERY = 512  # permutations between two clock readings

# Work units charged to the request's budget (credentials/budget.py; about 1 µs each): per
# quad of the input (building, preparing and serializing it), per related blank node hashed in
# a Hash N-Degree Quads call, and per blank node of each permutation tried (§4.8 step 5.4).
_UNITS_PER_QUAD = 20
_UNITS_PER_RELATED = 2
_UNITS_PER_PERMUTED_NODE = 1
_ACTIVITY = "RDF canonicalization"

_HASHES: dict[str, Callable[..., Any]] = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}


def _hash_function(name: str) -> Callable[..., Any]:
    try:
        return _HASHES[name.lower().replace("-", "")]
    except KeyError:
        raise ValueError(
            f"unsupported RDFC-1.0 hash algorithm {name!r}; use 'sha256' or 'sha384'"
        ) from None


# ---------------------------------------------------------------------------------------------
# RDFC-1.0
# ---------------------------------------------------------------------------------------------


class _Issuer:
    """An identifier issuer (RDFC-1.0 §4.5): issued identifiers in issue order, and a prefix.

    A dict keeps insertion order, so it is both the issued identifiers map and the issued
    identifiers list; the counter is its length, and a copy is one ``dict.copy()``.
    """

    __slots__ = ("issued", "prefix")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = {} if issued is None else issued

    def issue(self, existing: str) -> str:
        # §4.5 Issue Identifier: return the issued identifier, or issue prefix + counter.
        issued = self.issued.get(existing)
        if issued is None:
            issued = self.issued[existing] = f"{self.prefix}{len(self.issued)}"
        return issued

    def copy(self) -> _Issuer:
        return _Issuer(self.prefix, self.issued.copy())


# A prepared quad: serialized text for each position, or None where a blank node stands, then
# the blank node labels (None for IRIs and literals).  Predicates are never blank nodes.
_Entry = tuple[str | None, str, str | None, str | None, str | None, str | None, str | None]


def _lexicographic_permutations(items: list[str]) -> Iterator[list[str]]:
    """Distinct permutations of ``items`` in code point order (the same list, mutated).

    Repeated permutations of a list with duplicates give identical paths in §4.8 step 5.4, so
    they can never change the chosen path; skipping them is safe.
    """
    items = sorted(items)
    n = len(items)
    while True:
        yield items
        i = n - 2
        while i >= 0 and items[i] >= items[i + 1]:
            i -= 1
        if i < 0:
            return
        j = n - 1
        while items[j] <= items[i]:
            j -= 1
        items[i], items[j] = items[j], items[i]
        items[i + 1 :] = items[:i:-1]


class _Canonicalizer:
    """One run of RDFC-1.0 §4.4 over a deduplicated dataset."""

    def __init__(
        self,
        quads: Iterable[Quad],
        hash_algorithm: str,
        limits: CanonLimits,
        budget: WorkBudget,
    ) -> None:
        self._new_hash = _hash_function(hash_algorithm)
        self._limits = limits
        self._budget = budget
        self._deadline = perf_counter() + limits.max_seconds
        self._ground: list[str] = []  # serialized quads without blank nodes
        self._entries: list[_Entry] = []  # quads with at least one blank node
        # §4.4 step 2: the blank node to quads map.
        self._quads_of: dict[str, list[_Entry]] = {}
        self._first_degree: dict[str, str] = {}
        self._related: dict[str, list[tuple[str, str]]] = {}
        self._related_hashes: dict[str, str] = {}
        self._calls: dict[str, int] = {}
        self.canonical = _Issuer("_:c14n")
        # A dataset is a set: duplicate quads must not count twice (suite tests 076, 077).
        unique = dict.fromkeys(quads)
        budget.charge(len(unique) * _UNITS_PER_QUAD, _ACTIVITY)
        for quad in unique:
            self._add(quad)
        if len(self._quads_of) > limits.max_blank_nodes:
            raise CanonicalizationLimitError(
                f"RDF canonicalization refused: the dataset has {len(self._quads_of)} blank "
                f"nodes, more than the limit of {limits.max_blank_nodes} (max_blank_nodes)"
            )

    def _add(self, quad: Quad) -> None:
        s, p, o, g = quad
        if type(p) is not IRI:
            raise MalformedInputError(f"RDF quad predicate is not an IRI: {p!r}")
        s_label = s.id if type(s) is BlankNode else None
        o_label = o.id if type(o) is BlankNode else None
        g_label = g.id if type(g) is BlankNode else None
        s_text = None if s_label is not None else _term_text(s)
        o_text = None if o_label is not None else _term_text(o)
        g_text = None if g is None or g_label is not None else _term_text(g)
        p_text = _term_text(p)
        if s_label is None and o_label is None and g_label is None:
            self._ground.append(_line(s_text, p_text, o_text, g_text))  # type: ignore[arg-type]
            return
        entry: _Entry = (s_text, p_text, o_text, g_text, s_label, o_label, g_label)
        self._entries.append(entry)
        # §4.4 step 2.1: reference the quad from each blank node in it (once per quad).
        for label in {s_label, o_label, g_label}:
            if label is not None:
                self._quads_of.setdefault(label, []).append(entry)

    def _digest(self, text: str) -> str:
        digest: str = self._new_hash(text.encode("utf-8")).hexdigest()
        return digest

    # §4.6 Hash First Degree Quads (cached: it depends on nothing but the dataset).
    def _hash_first_degree(self, reference: str) -> str:
        cached = self._first_degree.get(reference)
        if cached is not None:
            return cached
        nquads = []
        # Steps 1-3: serialize each quad mentioning the reference blank node, writing it as
        # _:a and every other blank node as _:z (step 3.1.1).
        for s, p, o, g, s_label, o_label, g_label in self._quads_of[reference]:
            if s_label is not None:
                s = "_:a" if s_label == reference else "_:z"
            if o_label is not None:
                o = "_:a" if o_label == reference else "_:z"
            if g_label is not None:
                g = "_:a" if g_label == reference else "_:z"
            nquads.append(_line(s, p, o, g))  # type: ignore[arg-type]
        # Steps 4-5: sort in code point order, hash the concatenation.
        nquads.sort()
        result = self._first_degree[reference] = self._digest("".join(nquads))
        return result

    def _related_of(self, identifier: str) -> list[tuple[str, str]]:
        """(related blank node, position + predicate) for each blank node sharing a quad.

        The position/predicate half of §4.7's input never changes, so it is built once.
        """
        related = self._related.get(identifier)
        if related is None:
            related = []
            # §4.8 step 3.1: components that are the subject, object or graph name and are a
            # blank node other than identifier; §4.7 steps 2-3: "s"/"o" + <predicate>, or "g".
            for _s, p, _o, _g, s_label, o_label, g_label in self._quads_of[identifier]:
                if s_label is not None and s_label != identifier:
                    related.append((s_label, "s" + p))
                if o_label is not None and o_label != identifier:
                    related.append((o_label, "o" + p))
                if g_label is not None and g_label != identifier:
                    related.append((g_label, "g"))
            self._related[identifier] = related
        return related

    # §4.7 Hash Related Blank Node.
    def _hash_related(self, related: str, position_predicate: str, issuer: _Issuer) -> str:
        # Step 1: prefer the canonical identifier, then the one issued by issuer, then the
        # first-degree hash.
        identifier = (
            self.canonical.issued.get(related)
            or issuer.issued.get(related)
            or self._hash_first_degree(related)
        )
        # Steps 2-5: hash position, <predicate> (not for "g"), identifier.  Only a handful of
        # distinct inputs occur, so the hashes are memoized.
        text = position_predicate + identifier
        digest = self._related_hashes.get(text)
        if digest is None:
            digest = self._related_hashes[text] = self._digest(text)
        return digest

    def _check_clock(self) -> None:
        if perf_counter() > self._deadline:
            raise CanonicalizationLimitError(
                "RDF canonicalization refused: it took longer than the limit of "
                f"{self._limits.max_seconds} s (max_seconds); the dataset may be a poison graph"
            )

    # §4.8 Hash N-Degree Quads.
    def _hash_n_degree(self, identifier: str, issuer: _Issuer, depth: int) -> tuple[str, _Issuer]:
        limits = self._limits
        calls = self._calls[identifier] = self._calls.get(identifier, 0) + 1
        if calls > limits.max_calls_per_blank_node:
            raise CanonicalizationLimitError(
                "RDF canonicalization refused: Hash N-Degree Quads ran more than "
                f"{limits.max_calls_per_blank_node} times for one blank node "
                "(max_calls_per_blank_node); the dataset looks like a poison graph"
            )
        if depth > limits.max_depth:
            raise CanonicalizationLimitError(
                "RDF canonicalization refused: Hash N-Degree Quads recursed deeper than "
                f"{limits.max_depth} (max_depth)"
            )
        self._check_clock()
        canonical = self.canonical.issued
        related_nodes = self._related_of(identifier)
        self._budget.charge(len(related_nodes) * _UNITS_PER_RELATED, _ACTIVITY)

        # Steps 1-3: the hash to related blank nodes map.
        hash_to_related: dict[str, list[str]] = {}
        for related, position_predicate in related_nodes:
            digest = self._hash_related(related, position_predicate, issuer)
            hash_to_related.setdefault(digest, []).append(related)

        # Step 4: data to hash (a running hash object).
        data_to_hash = self._new_hash()
        checked = 0
        # Step 5: for each related hash -> blank node list, in code point order of the hash.
        for related_hash, blank_nodes in sorted(hash_to_related.items()):
            # Step 5.1: append the related hash.
            data_to_hash.update(related_hash.encode("ascii"))
            # Steps 5.2-5.3: chosen path and chosen issuer.
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            # Step 5.4: for each permutation of the blank node list.
            for permutation in _lexicographic_permutations(blank_nodes):
                checked += 1
                if checked % _TIME_CHECK_EVERY == 0:
                    self._check_clock()
                    self._budget.charge(
                        _TIME_CHECK_EVERY * len(blank_nodes) * _UNITS_PER_PERMUTED_NODE, _ACTIVITY
                    )
                # Steps 5.4.1-5.4.3: issuer copy, path, recursion list.
                issuer_copy = issuer.copy()
                path = ""
                recursion_list: list[str] = []
                skip = False
                # Step 5.4.4: for each related in permutation.
                for related in permutation:
                    # 5.4.4.1: a canonical identifier if one was issued...
                    issued = canonical.get(related)
                    if issued is None:
                        # 5.4.4.2.1-2: ...otherwise recurse later into nodes new to issuer
                        # copy, and issue them a temporary identifier now.
                        issued = issuer_copy.issued.get(related)
                        if issued is None:
                            recursion_list.append(related)
                            issued = issuer_copy.issue(related)
                    path += issued
                    # 5.4.4.3: skip to the next permutation once path can only be greater
                    # than the chosen path.
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                # Step 5.4.5: for each related in recursion list.
                for related in recursion_list:
                    # 5.4.5.1: recurse with issuer copy.
                    result_hash, result_issuer = self._hash_n_degree(
                        related, issuer_copy, depth + 1
                    )
                    # 5.4.5.2-3: append the identifier for related, then <hash>.
                    path += issuer_copy.issue(related) + "<" + result_hash + ">"
                    # 5.4.5.4: continue with the issuer from the result.
                    issuer_copy = result_issuer
                    # 5.4.5.5: the same early exit as 5.4.4.3.
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                # Step 5.4.6: keep the least path and its issuer.
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            self._budget.charge(
                (checked % _TIME_CHECK_EVERY) * len(blank_nodes) * _UNITS_PER_PERMUTED_NODE,
                _ACTIVITY,
            )
            checked = 0
            # Step 5.5: append the chosen path; 5.6: continue with the chosen issuer.
            data_to_hash.update(chosen_path.encode("utf-8"))
            assert chosen_issuer is not None  # noqa: S101 - at least one permutation is kept
            issuer = chosen_issuer
        # Step 6: the hash and the issuer.
        return data_to_hash.hexdigest(), issuer

    def run(self) -> None:
        """Issue a canonical identifier to every blank node (§4.4 steps 3-5)."""
        # Step 3: hash to blank nodes map, from the first-degree hash of every blank node.
        hash_to_blank_nodes: dict[str, list[str]] = {}
        for label in self._quads_of:
            hash_to_blank_nodes.setdefault(self._hash_first_degree(label), []).append(label)
        # Step 4: in code point order of hash, issue canonical identifiers to the blank nodes
        # whose first-degree hash is unique, and drop them from the map.
        for digest, labels in sorted(hash_to_blank_nodes.items()):
            if len(labels) == 1:
                self.canonical.issue(labels[0])
                del hash_to_blank_nodes[digest]
        # Step 5: the remaining (shared) hashes, in code point order.
        for _digest, labels in sorted(hash_to_blank_nodes.items()):
            # Step 5.1-5.2: a hash path list from Hash N-Degree Quads of each blank node not
            # yet canonically labelled, each with a fresh temporary issuer (prefix _:b).
            hash_path_list: list[tuple[str, _Issuer]] = []
            for label in labels:
                if label in self.canonical.issued:
                    continue
                temporary = _Issuer("_:b")
                temporary.issue(label)
                hash_path_list.append(self._hash_n_degree(label, temporary, 0))
            # Step 5.3: in code point order of the result hash, issue canonical identifiers to
            # the blank nodes in the order each result's issuer issued them.
            for _result_hash, result_issuer in sorted(hash_path_list, key=lambda r: r[0]):
                for existing in result_issuer.issued:
                    self.canonical.issue(existing)

    def nquads(self) -> str:
        """The canonical N-Quads document (§4.4 steps 6-7), lines sorted, without duplicates."""
        issued = self.canonical.issued
        lines = set(self._ground)
        # Step 6: replace each blank node with its canonical identifier.
        for s, p, o, g, s_label, o_label, g_label in self._entries:
            lines.add(
                _line(
                    issued[s_label] if s_label is not None else s,  # type: ignore[arg-type]
                    p,
                    issued[o_label] if o_label is not None else o,  # type: ignore[arg-type]
                    issued[g_label] if g_label is not None else g,
                )
            )
        # Canonical N-Quads: one line per quad, in code point order.
        return "".join(sorted(lines))


def _canonicalizer(
    quads: Iterable[Quad],
    hash_algorithm: str,
    limits: CanonLimits | None,
    budget: WorkBudget | None = None,
) -> _Canonicalizer:
    canonicalizer = _Canonicalizer(
        quads, hash_algorithm, limits or _DEFAULT_LIMITS, budget_or_default(budget)
    )
    canonicalizer.run()
    return canonicalizer


def canonicalize(
    quads: Iterable[Quad],
    *,
    hash_algorithm: str = "sha256",
    limits: CanonLimits | None = None,
    budget: WorkBudget | None = None,
) -> str:
    """Return the RDFC-1.0 canonical N-Quads document for ``quads``.

    Lines are sorted in code point order, duplicates removed, each ends with ``"\\n"``.
    Raises :class:`CanonicalizationLimitError` when ``limits`` (default :class:`CanonLimits`)
    are exceeded, :class:`~credentials.budget.WorkBudgetExceeded` when the request's ``budget``
    (a fresh one if none is given) runs out, and ``ValueError`` for a hash algorithm other than
    sha256/sha384.
    """
    return _canonicalizer(quads, hash_algorithm, limits, budget).nquads()


def canonicalize_nquads(
    text: str,
    *,
    hash_algorithm: str = "sha256",
    limits: CanonLimits | None = None,
) -> str:
    """Parse N-Quads ``text`` and return its canonical form (see :func:`canonicalize`).

    Raises :class:`MalformedInputError` for invalid N-Quads, plus whatever
    :func:`canonicalize` raises.
    """
    return canonicalize(parse_nquads(text), hash_algorithm=hash_algorithm, limits=limits)


def issued_identifiers(
    quads: Iterable[Quad],
    *,
    hash_algorithm: str = "sha256",
    limits: CanonLimits | None = None,
) -> dict[str, str]:
    """Return the issued identifiers map: input blank node label -> canonical label.

    Labels are without ``_:`` (``{"e0": "c14n0"}``), in issue order.  Raises as
    :func:`canonicalize` does.
    """
    issued = _canonicalizer(quads, hash_algorithm, limits).canonical.issued
    return {existing: label[2:] for existing, label in issued.items()}
