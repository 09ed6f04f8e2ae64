"""JSON-LD processing for credentials: the allow-list document loader and strict RDF conversion.

The only module that imports pyld.  Nothing here ever opens a network connection: every
context comes from ``contexts/`` (checked against the sha256 in ``contexts/index.json``), and any
other URL is refused with :class:`~credentials.errors.ContextNotAllowedError`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pyld import jsonld

from . import rdfc
from .errors import ContextNotAllowedError, DataLossError, MalformedInputError

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


class DocumentLoader:
    """A pyld document loader that serves only bundled, hash-checked documents.

    Construct with :meth:`bundled` (the service's contexts) or :meth:`from_index`; ``extend``
    returns a new loader with more documents (tests add the vectors' extra contexts this way).
    """

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self._documents = dict(documents)

    @classmethod
    def from_index(cls, index_path: Path) -> DocumentLoader:
        """Load every document named by an ``index.json`` (``{"contexts": [{url, file, sha256}]}``).

        Raises :class:`RuntimeError` when a file is missing or its sha256 differs from the
        index: a tampered context must stop the service from starting.
        """
        index = json.loads(index_path.read_text(encoding="utf-8"))
        documents: dict[str, Any] = {}
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
        return cls(documents)

    @classmethod
    def bundled(cls, contexts_dir: Path | None = None) -> DocumentLoader:
        """The service's allow-list: ``contexts/index.json`` (or ``CREDFOLIO_CONTEXTS_DIR``)."""
        directory = contexts_dir or Path(
            os.environ.get("CREDFOLIO_CONTEXTS_DIR", DEFAULT_CONTEXTS_DIR)
        )
        return cls.from_index(directory / "index.json")

    def extend(self, other: DocumentLoader) -> DocumentLoader:
        """A new loader serving the documents of both loaders."""
        return DocumentLoader({**self._documents, **other._documents})

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
        # pyld may mutate what it is given; hand out a copy of the pristine document.  The
        # "static" tag lets pyld keep the *processed* context in its shared cache: bundled
        # contexts never change, so each is fetched and processed once per process.
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(document),
            "tag": "static",
        }


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


def to_quads(document: Mapping[str, Any], *, loader: DocumentLoader) -> list[rdfc.Quad]:
    """Convert a JSON-LD document to RDF quads, refusing any data loss.

    Raises :class:`DataLossError` naming the first property that no context defines (pyld would
    silently drop it, so it would not be signed) or the first relative IRI (pyld would resolve it
    against a made-up base), and :class:`MalformedInputError` for invalid JSON-LD.
    """
    dropped: list[str | None] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    options = {
        "documentLoader": loader,
        "base": _RELATIVE_BASE,
        "produceGeneralizedRdf": False,
    }
    try:
        dataset = processor.to_rdf(dict(document), options)
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from None
    if dropped:
        term = dropped[0]
        raise DataLossError(
            f"property {term!r} is not defined by any @context, so it would not be signed"
            if term
            else "a property is not defined by any @context (or is explicitly ignored), "
            "so it would not be signed",
            term=term,
        )
    quads = rdfc.from_pyld_dataset(dataset)
    _refuse_relative_iris(quads)
    return quads


def canonicalize(
    document: Mapping[str, Any],
    *,
    loader: DocumentLoader,
    limits: rdfc.CanonLimits | None = None,
) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (after the data-loss checks)."""
    return rdfc.canonicalize(to_quads(document, loader=loader), limits=limits)


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
