"""JSON-LD processing for credentials: the allow-list document loader and strict RDF conversion.

The only module that imports pyld.  Nothing here ever opens a network connection: every
context comes from ``contexts/`` (checked against the sha256 in ``contexts/index.json``), and any
other URL is refused with :class:`~credentials.errors.ContextNotAllowedError`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.context_resolver import ContextResolver
from pyld.identifier_issuer import IdentifierIssuer

from . import iri, rdfc
from .budget import WorkBudget, budget_or_default
from .errors import ContextNotAllowedError, DataLossError, MalformedInputError
from .expansion_cost import UNITS_PER_COMPARISON as _UNITS_PER_COMPARISON
from .expansion_cost import UNITS_PER_VALUE as _UNITS_PER_VALUE
from .expansion_cost import conversion_cost

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB_V3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2_CONTEXT = "https://w3id.org/security/data-integrity/v2"

#: The bundled contexts live beside the packages (``contexts/`` at the top of the repository).
DEFAULT_CONTEXTS_DIR = Path(__file__).resolve().parent.parent / "contexts"

# Relative IRIs are resolved against this base so that they can be *found* afterwards and refused
# (pyld would otherwise resolve them silently against http://example.org/base/ and sign the
# made-up IRI).  ``.invalid`` is reserved by RFC 2606: no real IRI can legitimately use it.
_RELATIVE_BASE = "https://relative-iri.invalid/"

# Keywords that would let a document escape the allow-list or change how IRIs resolve.
_FORBIDDEN_INLINE_KEYWORDS = ("@base", "@import")

#: Deepest nesting of objects and arrays accepted (the outermost counts as 1).  pyld expands
#: JSON-LD recursively, several Python frames per level, so a few hundred levels exhaust the
#: stack; credentials in practice are about ten levels deep.
MAX_DEPTH = 100
# A lone surrogate (JSON "\ud800") is not Unicode text: it cannot be encoded as UTF-8, so it
# can be neither canonicalized nor shown (RFC 8259 §8.2; I-JSON, RFC 7493 §2.1, forbids it).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class DocumentLoader:
    """A pyld document loader that serves only bundled, hash-checked documents.

    Construct with :meth:`bundled` (the service's contexts) or :meth:`from_index`; ``extend``
    returns a new loader with more documents (tests add the vectors' extra contexts this way).
    """

    def __init__(
        self, documents: Mapping[str, Any], *, raw: Mapping[str, bytes] | None = None
    ) -> None:
        self._documents = dict(documents)
        # The files exactly as published (hash-checked), for relatedResource digests.
        self._raw = dict(raw or {})
        # pyld's cache of resolved contexts, per loader (pyld's default is process-wide and keyed
        # by URL alone: a context cached through one loader would then bypass another loader's
        # allow-list).
        self.resolved_cache: _LockedLRU = _LockedLRU(maxsize=512)
        # Processed (active) contexts, memoized by what they were computed from; see
        # _CachingProcessor.  Only immutable inputs are memoized: URL strings and objects from
        # the documents this loader handed out, which it keeps alive (so ids are never reused).
        # Plain dicts (one get or set is atomic, so no lock), emptied when they grow too large:
        # cheaper on the hot path than an LRU, and a race only computes a value twice.
        self.processed_cache: dict[Hashable, Any] = {}
        # Expanded IRIs, memoized per frozen active context; see _CachingProcessor._expand_iri.
        self.iri_cache: dict[Hashable, Any] = {}
        self._owned: dict[int, Any] = {}
        self._owned_lock = threading.Lock()

    @classmethod
    def from_index(cls, index_path: Path) -> DocumentLoader:
        """Load every document named by an ``index.json`` (``{"contexts": [{url, file, sha256}]}``).

        Raises :class:`RuntimeError` when a file is missing or its sha256 differs from the
        index: a tampered context must stop the service from starting.
        """
        index = json.loads(index_path.read_text(encoding="utf-8"))
        documents: dict[str, Any] = {}
        raw: dict[str, bytes] = {}
        for entry in index["contexts"]:
            path = index_path.parent / entry["file"]
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise RuntimeError(f"bundled context {entry['url']} is missing: {path}") from exc
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry["sha256"]:
                raise RuntimeError(
                    f"bundled context {entry['url']} ({path.name}) has sha256 {digest}, "
                    f"but {index_path} expects {entry['sha256']}; refusing to use it"
                )
            documents[entry["url"]] = json.loads(data)
            raw[entry["url"]] = data
        return cls(documents, raw=raw)

    @classmethod
    def bundled(cls, contexts_dir: Path | None = None) -> DocumentLoader:
        """The service's allow-list: ``contexts/index.json`` (or ``CREDFOLIO_CONTEXTS_DIR``)."""
        directory = contexts_dir or Path(
            os.environ.get("CREDFOLIO_CONTEXTS_DIR", DEFAULT_CONTEXTS_DIR)
        )
        return cls.from_index(directory / "index.json")

    def extend(self, other: DocumentLoader) -> DocumentLoader:
        """A new loader serving the documents of both loaders."""
        return DocumentLoader(
            {**self._documents, **other._documents}, raw={**self._raw, **other._raw}
        )

    def published_bytes(self, url: str) -> bytes | None:
        """The bundled file of ``url`` byte for byte (its sha256 was checked), if we have it:
        what a ``relatedResource`` digest of that context is computed over."""
        return self._raw.get(url)

    @property
    def urls(self) -> frozenset[str]:
        """The URLs this loader serves."""
        return frozenset(self._documents)

    def __contains__(self, url: object) -> bool:
        return url in self._documents

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        """pyld's loader protocol.  Raises :class:`ContextNotAllowedError` for any other URL."""
        try:
            document = self._documents[url]
        except KeyError:
            raise ContextNotAllowedError(url) from None
        # Hand out a copy of the pristine document, and remember every object in it as ours.
        # The "static" tag lets pyld keep the resolved context in its cache: bundled contexts
        # never change, so each is fetched and processed once per loader.
        handed_out = copy.deepcopy(document)
        with self._owned_lock:
            _register(handed_out, self._owned)
        return {"contextUrl": None, "documentUrl": url, "document": handed_out, "tag": "static"}

    def context_key(self, context: Any) -> Hashable | None:
        """A memo key for a local context, or ``None`` when it must not be memoized.

        URL strings are keys by value; objects only when this loader handed them out (they are
        never mutated and stay alive, so their identity is a safe key).  Contexts written in the
        caller's own document are never memoized: the caller could change them between calls.
        """
        if isinstance(context, str):
            return context
        if isinstance(context, list):
            parts = [self.context_key(item) for item in context]
            return None if any(p is None for p in parts) else ("list", *parts)
        if context is None:
            return ("null",)
        if isinstance(context, dict) and self._owned.get(id(context)) is context:
            return ("owned", id(context))
        return None


def context_urls(document: Mapping[str, Any]) -> list[Any]:
    """The document's top-level ``@context`` as a list (strings and inline objects)."""
    contexts = document.get("@context")
    if contexts is None:
        raise MalformedInputError("the document has no @context", code="MISSING_CONTEXT")
    return contexts if isinstance(contexts, list) else [contexts]


def check_contexts(
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader,
    first: Iterable[str] = (VC_V2_CONTEXT,),
) -> None:
    """Refuse a document whose contexts we would not process.

    * VC DM 2.0 §4.3: the first ``@context`` value MUST be the VC v2 context (``first`` lets a
      verifier also accept the VC 1.1 context for legacy credentials);
    * every URL must be bundled (nothing is fetched);
    * an inline context may not use ``@base`` or ``@import`` (either would let the document
      change how its IRIs resolve, or pull in a context we have not vetted).

    Raises :class:`MalformedInputError` (``ContextNotAllowedError`` for an unknown URL).
    """
    contexts = context_urls(document)
    allowed_first = tuple(first)
    if not contexts or contexts[0] not in allowed_first:
        raise MalformedInputError(
            f"the first @context must be {' or '.join(allowed_first)}, "
            f"not {contexts[0] if contexts else 'nothing'!r}",
            code="INVALID_CONTEXT",
        )
    for context in contexts:
        if isinstance(context, str):
            if context not in loader:
                raise ContextNotAllowedError(context)
        elif isinstance(context, dict):
            _check_inline_context(context, loader=loader)
        else:
            raise MalformedInputError(
                "@context entries must be URLs or objects", code="INVALID_CONTEXT"
            )


def _check_inline_context(context: Mapping[str, Any], *, loader: DocumentLoader) -> None:
    for key, value in context.items():
        if key in _FORBIDDEN_INLINE_KEYWORDS:
            raise MalformedInputError(
                f"inline @context uses {key}, which Credfolio does not accept",
                code="INVALID_CONTEXT",
            )
        if isinstance(value, dict):
            if isinstance(value.get("@context"), dict):
                _check_inline_context(value["@context"], loader=loader)
            elif isinstance(value.get("@context"), str) and value["@context"] not in loader:
                raise ContextNotAllowedError(value["@context"])


def check_structure(document: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse JSON that JSON-LD processing cannot take safely, before pyld sees it.

    Walks the value without recursion.  Raises :class:`MalformedInputError` with code
    ``JSON_TOO_DEEP`` when objects and arrays nest deeper than ``max_depth``, and with code
    ``INVALID_UNICODE`` when a string or member name holds a lone surrogate code point.  The
    messages never repeat the offending text.
    """
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_unicode(node, "a string")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > max_depth:
            raise MalformedInputError(
                f"the JSON is nested more than {max_depth} levels deep", code="JSON_TOO_DEEP"
            )
        if isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
            continue
        if "@index" in node or "@container" in node:
            _refuse_unsigned_index(node)
        for key, value in node.items():
            if isinstance(key, str):
                _check_unicode(key, "a member name")
            if key == "@context":
                _refuse_base_and_import(value)
            stack.append((value, depth + 1))


def _refuse_unsigned_index(node: Mapping[str, Any]) -> None:
    """JSON-LD to RDF keeps no ``@index`` (JSON-LD 1.1 §4.6.1 "Data Indexing"): an index on a
    node or value, or the keys of an index map, would be unsigned and could be changed after
    signing (Data Integrity §4.1).  A property-valued index map (``"@index": "prop"`` in the
    term definition) keeps its keys as values of that property, so it is allowed."""
    container = node.get("@container")
    containers = container if isinstance(container, list) else [container]
    if "@container" not in node:
        raise DataLossError(
            "an @index is not part of the RDF data, so it would not be signed", term="@index"
        )
    if "@index" in containers and "@index" not in node:
        raise DataLossError(
            "an @index container's keys are not part of the RDF data, so they would not be "
            'signed (a property-valued index, with "@index": "<property>", is)',
            term="@index",
        )


def _refuse_base_and_import(context: Any) -> None:
    # check_contexts refuses these in the top-level contexts; this finds them in contexts
    # embedded anywhere in the document (a node's own @context, a scoped term definition).
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict):
            for keyword in _FORBIDDEN_INLINE_KEYWORDS:
                if keyword in item:
                    raise MalformedInputError(
                        f"an embedded @context uses {keyword}, which Credfolio does not accept",
                        code="INVALID_CONTEXT",
                    )


def _check_unicode(text: str, what: str) -> None:
    # ASCII text cannot hold a surrogate; isascii() is far cheaper than the search.
    if not text.isascii() and _LONE_SURROGATE.search(text):
        raise MalformedInputError(
            f"{what} holds a lone surrogate code point (an unpaired \\ud800-\\udfff escape): "
            "not Unicode text",
            code="INVALID_UNICODE",
        )


def to_quads(
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader,
    structure_checked: bool = False,
    budget: WorkBudget | None = None,
) -> list[rdfc.Quad]:
    """Convert a JSON-LD document to RDF quads, refusing any data loss.

    Raises :class:`DataLossError` naming the first property that no context defines (pyld would
    silently drop it, so it would not be signed) or the first relative IRI (pyld would resolve it
    against a made-up base), and :class:`MalformedInputError` for invalid JSON-LD, for JSON that
    :func:`check_structure` refuses and for a number beyond the range of a double.
    ``structure_checked`` says the caller has just run :func:`check_structure` on a document
    holding every value of this one (the verifier does, first thing), so it is not run twice.
    The work is charged to ``budget`` (the request's; a fresh one if none is given), node
    merging before it is done: :class:`~credentials.budget.WorkBudgetExceeded` when it runs out.
    """
    if not structure_checked:
        check_structure(document)
    dropped: list[str | None] = []
    processor = _CachingProcessor(
        loader, on_property_dropped=dropped.append, budget=budget_or_default(budget)
    )
    lost = processor.lost_iris
    options = {
        "documentLoader": loader,
        "contextResolver": ContextResolver(loader.resolved_cache, loader),
        "base": _RELATIVE_BASE,
        "produceGeneralizedRdf": False,
        # Base direction is signed as the reference implementation signs it (Digital Bazaar's
        # eddsa-rdfc-2022 canonize): JSON-LD 1.1 API §8.1.2 with rdfDirection "i18n-datatype".
        "rdfDirection": RDF_DIRECTION,
    }
    try:
        quads = processor.to_quads(dict(document), options)
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from None
    except OverflowError:
        # pyld converts every number to a float to classify it: 1e400 written as an integer.
        raise MalformedInputError(
            "a number is too large for JSON-LD (beyond the range of a double)",
            code="INVALID_NUMBER",
        ) from None
    except RecursionError:  # a backstop: check_structure refuses such nesting first
        raise MalformedInputError("the JSON is nested too deeply", code="JSON_TOO_DEEP") from None
    except MalformedInputError as exc:
        # A list item the conversion could not keep ("object is not a term object"): say which.
        if lost and type(exc) is MalformedInputError:
            raise _lost_iri_error(lost[0]) from None
        raise
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        # pyld trips over some documents it should refuse (an @type map whose value is a
        # number is an AttributeError): malformed JSON-LD is a 400, never a 500.
        raise MalformedInputError(
            f"invalid JSON-LD: the JSON-LD processor cannot process this document "
            f"({type(exc).__name__} in {_where(exc)})",
            code="INVALID_JSON_LD",
        ) from None
    if dropped:
        term = dropped[0]
        raise DataLossError(
            f"property {term!r} is not defined by any @context, so it would not be signed"
            if term
            else "a property is not defined by any @context (or is explicitly ignored), "
            "so it would not be signed",
            term=term,
        )
    if lost:
        raise _lost_iri_error(lost[0])
    _refuse_relative_iris(quads)
    return quads


class _LockedLRU(LRUCache):  # type: ignore[type-arg]
    """An LRU cache safe to share between threads (the development server is threaded)."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self._lock = threading.RLock()

    def __getitem__(self, key: Any) -> Any:
        with self._lock:
            return super().__getitem__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        with self._lock:
            super().__delitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            return super().get(key, default)


def _register(node: Any, owned: dict[int, Any]) -> None:
    if isinstance(node, dict):
        owned[id(node)] = node
        for value in node.values():
            _register(value, owned)
    elif isinstance(node, list):
        owned[id(node)] = node
        for value in node:
            _register(value, owned)


class _CachingProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor with processed contexts memoized across calls.

    pyld caches a processed context under the uuid of the active context it was processed
    against, but type-scoped contexts (Open Badges defines one per type) are processed against a
    fresh clone each time, so they miss its cache and are rebuilt for every node of every
    document — half the time of signing.  The processed contexts pyld returns are frozen, so the
    same result can be shared whenever the inputs are the same: the same active context (its
    uuid), the same immutable local context and the same flags.  Calls made while a context is
    itself being defined (``cycles`` given) are not memoized, as pyld's own cache comment warns.
    Tests compare the output with plain pyld on every vector and example.
    """

    def __init__(
        self, loader: DocumentLoader, *, budget: WorkBudget | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._loader = loader
        #: What the last ``to_quads`` left out as not an absolute IRI (see QuadBuilder.lost).
        self.lost_iris: list[str] = []
        self._budget = budget_or_default(budget)
        self._expansions = 0

    def _expand(self, *args: Any, **kwargs: Any) -> Any:
        # Expansion is charged once it is done (to_quads); meanwhile the request's CPU clock is
        # read every few hundred elements, so no expansion runs far past the budget.
        self._expansions += 1
        if self._expansions % _CLOCK_EVERY_ELEMENTS == 0:
            self._budget.check_clock("JSON-LD expansion")
        return super()._expand(*args, **kwargs)

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        def process() -> Any:
            return super(_CachingProcessor, self)._process_context(
                active_ctx,
                local_ctx,
                options,
                override_protected=override_protected,
                propagate=propagate,
                validate_scoped=validate_scoped,
                cycles=cycles,
            )

        context_key = None if cycles is not None else self._loader.context_key(local_ctx)
        uuid_ = active_ctx.get("_uuid") if context_key is not None else None
        if uuid_ is None:
            return process()
        key = (uuid_, context_key, override_protected, propagate, validate_scoped)
        cache = self._loader.processed_cache
        processed = cache.get(key)
        if processed is None:
            processed = process()
            if len(cache) >= _PROCESSED_CACHE_SIZE:
                cache.clear()
            cache[key] = processed
        return processed

    def _clone_active_context(self, active_ctx: Any) -> Any:
        # JSON-LD 1.1 API §4.1.2 steps 5.7-5.9: "@vocab", "@language" or "@direction": null
        # removes that mapping from the result -- a no-op when there is none (jsonld.js
        # `delete`s).  pyld `del`s, a KeyError (500) for {"@vocab": null} on the VC context.
        return _ActiveContext(super()._clone_active_context(active_ctx))

    def to_quads(self, input_: Any, options: Mapping[str, Any]) -> list[rdfc.Quad]:
        """pyld 3.3.0's ``to_rdf``, producing our quads directly (see QuadBuilder below).

        The same steps: expand, build the node map, then each graph in sorted order, skipping
        relative graph names.  Raises what ``to_rdf`` would (``JsonLdError``...) and the
        ``MalformedInputError`` of :func:`credentials.rdfc.from_pyld_dataset`.
        """
        options = dict(options)
        options.setdefault("produceGeneralizedRdf", False)
        options.setdefault("extractAllScripts", True)
        options.setdefault("processingMode", "json-ld-1.1")
        options.setdefault("identifierIssuer", IdentifierIssuer("_:b"))
        try:
            expanded = self.expand(input_, options)
        except jsonld.JsonLdError as cause:
            raise jsonld.JsonLdError(
                "Could not expand input before serialization to RDF.", "jsonld.RdfError"
            ) from cause
        # Node merging compares every value of a merged node's property with every other:
        # charge that work to the request's budget before pyld does it (expansion_cost.py).
        cost = conversion_cost(expanded)
        self._budget.charge(cost.values * _UNITS_PER_VALUE, "JSON-LD expansion")
        self._budget.charge(cost.comparisons * _UNITS_PER_COMPARISON, "JSON-LD node merging")
        issuer = options["identifierIssuer"]
        node_map: dict[str, Any] = {"@default": {}}
        self._create_node_map(expanded, node_map, "@default", issuer)
        builder = QuadBuilder(issuer, options, lost=self.lost_iris)
        for graph_name, graph in sorted(node_map.items()):
            if graph_name == "@default" or jsonld._is_absolute_iri(graph_name):
                builder.add_graph(graph_name, graph)
            else:
                builder.lost.append(graph_name)
        return builder.quads

    def _expand_iri(
        self,
        active_ctx: Any,
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        # JSON-LD 1.1 IRI Expansion (§5.2) is a pure function of the active context, the value,
        # the base and `vocab` -- except while a context is being defined (local_ctx/defined
        # given), when it may create term definitions.  Active contexts pyld has finished are
        # frozen and carry a fresh `_uuid` (pyld's own cache key for them), so that is the key.
        if (
            local_ctx is None
            and defined is None
            and type(active_ctx) is _FROZEN
            and type(value) is str
            and type(base) in _PLAIN_BASE_TYPES
        ):
            uuid_ = active_ctx.get("_uuid")
            if uuid_ is not None:
                cache = self._loader.iri_cache
                key = (uuid_, value, base, vocab)
                try:
                    return cache[key]
                except KeyError:
                    pass
                expanded = super()._expand_iri(active_ctx, value, base=base, vocab=vocab)
                if len(cache) >= _IRI_CACHE_SIZE:
                    cache.clear()
                cache[key] = expanded
                return expanded
        return super()._expand_iri(
            active_ctx, value, base=base, vocab=vocab, local_ctx=local_ctx, defined=defined
        )


class _ActiveContext(dict):  # type: ignore[type-arg]
    """An active context being built: removing a mapping that is not there is a no-op."""

    def __delitem__(self, key: Any) -> None:
        if key in self:
            super().__delitem__(key)


# pyld tests "is this an absolute IRI?" with `re.match(<pattern text>, value)` about 1,300 times
# for the full Open Badges example: the same regular expression, compiled once, and the answer
# memoized per string (a pure function of it).  Every caller in pyld uses only its truth value.
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")


@functools.lru_cache(maxsize=65536)
def _matches_absolute_iri(value: str) -> bool:
    return _ABSOLUTE_IRI.match(value) is not None


def _is_absolute_iri(value: Any) -> bool:
    return isinstance(value, str) and _matches_absolute_iri(value)


#: pyld's own function, kept so that tests can compute the reference output without our change.
PYLD_IS_ABSOLUTE_IRI = getattr(jsonld, "_pyld_is_absolute_iri", jsonld._is_absolute_iri)
jsonld._pyld_is_absolute_iri = PYLD_IS_ABSOLUTE_IRI
jsonld._is_absolute_iri = _is_absolute_iri

_FROZEN = jsonld.frozendict
_PLAIN_BASE_TYPES = frozenset({str, bool, type(None)})
_IRI_CACHE_SIZE = 16384
_CLOCK_EVERY_ELEMENTS = 256
_PROCESSED_CACHE_SIZE = 4096


def canonicalize(
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader,
    limits: rdfc.CanonLimits | None = None,
    structure_checked: bool = False,
    budget: WorkBudget | None = None,
) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (after the data-loss checks).

    Both steps draw on ``budget``, the request's work budget (a fresh one if none is given).
    """
    budget = budget_or_default(budget)
    quads = to_quads(document, loader=loader, structure_checked=structure_checked, budget=budget)
    return rdfc.canonicalize(quads, limits=limits, budget=budget)


def _refuse_relative_iris(quads: Iterable[rdfc.Quad]) -> None:
    for quad in quads:
        for term in quad:
            if isinstance(term, rdfc.IRI) and term.value.startswith(_RELATIVE_BASE):
                relative = term.value[len(_RELATIVE_BASE) :]
                raise DataLossError(
                    f"{relative!r} is a relative IRI or a term no @context defines; "
                    "it cannot be signed unambiguously",
                    term=relative,
                )


def _lost_iri_error(value: str) -> DataLossError:
    if value.startswith(_NUMBER_MARK):
        number = value[len(_NUMBER_MARK) :]
        return DataLossError(
            f"the integer {number} is too large to be signed exactly: JSON-LD turns integers "
            "from 10^21 up into doubles, so nearby integers would have the same signature",
            term=number,
        )
    shown = value[len(_RELATIVE_BASE) :] if value.startswith(_RELATIVE_BASE) else value
    return DataLossError(
        f"{shown!r} is not a valid IRI (RFC 3987); the statements that use it would be dropped "
        "or changed by the conversion to RDF, so they would not be signed",
        term=shown,
    )


def _where(exc: BaseException) -> str:
    """The pyld function an unexpected exception came from (no values: they may be hostile)."""
    traceback = exc.__traceback__
    name = "pyld"
    while traceback is not None:
        name = traceback.tb_frame.f_code.co_name
        traceback = traceback.tb_next
    return name


def _translate(exc: jsonld.JsonLdError) -> MalformedInputError:
    """Find our own error inside pyld's wrapping, or describe pyld's error safely."""
    cause: BaseException | None = exc
    seen = 0
    while cause is not None and seen < 20:
        if isinstance(cause, MalformedInputError):
            return cause
        details = getattr(cause, "details", None)
        inner = details.get("cause") if isinstance(details, dict) else None
        cause = inner if isinstance(inner, BaseException) else cause.__cause__
        seen += 1
    # Walk to the innermost pyld error for the most specific message.
    innermost = exc
    while isinstance(innermost.__cause__, jsonld.JsonLdError):
        innermost = innermost.__cause__
    code = getattr(innermost, "code", None) or getattr(innermost, "type", "invalid JSON-LD")
    return MalformedInputError(
        f"invalid JSON-LD ({code}): {innermost.args[0] if innermost.args else innermost}",
        code="INVALID_JSON_LD",
    )


# ---------------------------------------------------------------------------------------------
# JSON-LD 1.1 "Deserialize JSON-LD to RDF" (JSON-LD 1.1 API §8.1): pyld's node map to our quads
# ---------------------------------------------------------------------------------------------
# pyld's to_rdf builds a dataset of small dicts that rdfc.from_pyld_dataset then converts; this
# walks pyld's node map once and builds rdfc terms directly, mirroring pyld 3.3.0's _graph_to_rdf,
# _object_to_rdf and _list_to_rdf step for step (same order, same blank-node identifiers, same
# skipped triples, the same checks as from_pyld_dataset) and reusing pyld's own value
# conversions.  Tests compare the quads with from_pyld_dataset(pyld to_rdf) exactly, list for
# list, on every vector and example.  Options Credfolio never uses are refused rather than
# imitated: generalized RDF and the "compound-literal" rdfDirection.

#: JSON-LD 1.1 API ``rdfDirection``: how a base direction (``@direction``) enters RDF.
RDF_DIRECTION = "i18n-datatype"
I18N_BASE = "https://www.w3.org/ns/i18n#"
_RDF_TYPE = jsonld.RDF_TYPE
_RDF_FIRST = rdfc.IRI(jsonld.RDF_FIRST)
_RDF_REST = rdfc.IRI(jsonld.RDF_REST)
_RDF_NIL = rdfc.IRI(jsonld.RDF_NIL)

Term = rdfc.IRI | rdfc.BlankNode | rdfc.Literal
# Marks a rounded integer among QuadBuilder.lost (no IRI starts with "@").
_NUMBER_MARK = "@number "


# RDF 1.1 N-Quads LANGTAG (BCP 47's syntax).  A tag outside it is not RDF: written into the
# canonical N-Quads as it is, it could add statements of its own ('en .\n<s> <p> "o"@en'), so
# that two different documents share one canonical form, and one signature.
_LANGTAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*")


def _language_tag(tag: Any) -> str:
    if not isinstance(tag, str) or _LANGTAG.fullmatch(tag) is None:
        raise DataLossError(
            "a language tag is not a well-formed BCP 47 / RDF language tag, so it cannot be "
            "signed unambiguously",
            term="@language",
        )
    return tag


class QuadBuilder:
    """Quads of one document; converts each distinct term once (as ``from_pyld_dataset`` does)."""

    def __init__(
        self, issuer: Any, options: Mapping[str, Any], *, lost: list[str] | None = None
    ) -> None:
        if options.get("produceGeneralizedRdf") or options.get("rdfDirection") not in (
            None,
            RDF_DIRECTION,
        ):
            raise ValueError('generalized RDF and rdfDirection "compound-literal" are refused')
        self.i18n_datatype = options.get("rdfDirection") == RDF_DIRECTION
        self.issuer = issuer
        #: What pyld's conversion skips without a word: subjects, predicates, objects and graph
        #: names that are not absolute IRIs, and blank-node predicates (generalized RDF); and
        #: what it would emit changed or unparseable: IRIs that are not RFC 3987 IRIs, integers
        #: a double rounds (JSON-LD 1.1 API §8.6 step 9, marked with _NUMBER_MARK); language
        #: tags are checked by _language_tag.  The quads stay exactly
        #: pyld's; ``to_quads`` refuses the document when this is not empty.
        self.lost: list[str] = [] if lost is None else lost
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
        # Each distinct term is made (and so checked) once per document.
        if kind == "IRI":
            term = rdfc.IRI(value)
            if not iri.is_absolute_iri(value):
                self.lost.append(value)
        elif kind == "blank node":
            term = rdfc.BlankNode(value[2:])
        else:
            resolved = datatype or (rdfc.RDF_LANGSTRING if language else rdfc.XSD_STRING)
            if not isinstance(resolved, str) or not (language is None or isinstance(language, str)):
                raise MalformedInputError(f"RDF dataset: {where} has a malformed datatype/language")
            term = rdfc.Literal(value, resolved, language or None)
            if not iri.is_absolute_iri(resolved):
                self.lost.append(resolved)
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
            if not iri.is_absolute_iri(name):
                self.lost.append(name)
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
                        self.lost.append(property_ if is_absolute(id_) else id_)
                        continue
                    if property_.startswith("_:"):
                        self.lost.append(property_)
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
                if int(float(value)) != value:  # rounded: other integers would sign the same
                    self.lost.append(_NUMBER_MARK + str(value)[:40])
                value = jsonld._canonicalize_double(value)
                datatype = datatype or jsonld.XSD_DOUBLE
            elif jsonld._is_integer(value):
                value = str(int(value))
                datatype = datatype or jsonld.XSD_INTEGER
            elif self.i18n_datatype and "@direction" in item:
                # JSON-LD 1.1 API §8.1.2 step 13.2 (rdfDirection "i18n-datatype"): the datatype
                # is i18n# + the lower-cased language (or nothing) + "_" + the direction.
                tag = _language_tag(item["@language"]).lower() if "@language" in item else ""
                datatype = f"{I18N_BASE}{tag}_{item['@direction']}"
            elif "@language" in item:
                datatype = datatype or jsonld.RDF_LANGSTRING
                language = _language_tag(item["@language"])
            else:
                datatype = datatype or jsonld.XSD_STRING
            return self._term("literal", value, datatype, language, "object")
        if jsonld._is_list(item):
            return self._list(item["@list"], graph)
        id_ = item["@id"] if jsonld._is_object(item) else item
        if not id_.startswith("_:") and not jsonld._is_absolute_iri(id_):
            self.lost.append(id_)
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
