"""Validation against the bundled 1EdTech Open Badges 3.0 JSON Schemas (draft 2019-09).

Fully offline: ``$ref``s resolve only inside ``credentials/schemas/``; anything else raises.
``jsonschema`` is the reference: it judges every document the fast path (``jsonschema-rs``,
compiled Rust) does not pass, and it writes every problem message.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema import Draft201909Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from credentials.errors import SchemaValidationError

__all__ = [
    "ACHIEVEMENT_CREDENTIAL",
    "CREDENTIAL_SCHEMA_IDS",
    "ENDORSEMENT_CREDENTIAL",
    "KINDS",
    "PROFILE",
    "errors_for",
    "is_rfc3339_datetime",
    "schema_for",
    "validate",
]

SCHEMA_DIR = Path(__file__).parent / "schemas"

#: Schema kinds, named after the bundled files (``credentials/schemas/<kind>.json``).
ACHIEVEMENT_CREDENTIAL = "achievementcredential"
ENDORSEMENT_CREDENTIAL = "endorsementcredential"
PROFILE = "profile"
KINDS: tuple[str, ...] = (ACHIEVEMENT_CREDENTIAL, ENDORSEMENT_CREDENTIAL, PROFILE)

#: The ``credentialSchema.id`` an issuer names for each credential kind (OB 3.0 §B.1 examples;
#: ``type`` 1EdTechJsonSchemaValidator2019).  The files' own ``$id``s differ (``-jsonschema1``).
CREDENTIAL_SCHEMA_IDS: dict[str, str] = {
    ACHIEVEMENT_CREDENTIAL: "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
    "ob_v3p0_achievementcredential_schema.json",
    ENDORSEMENT_CREDENTIAL: "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
    "ob_v3p0_endorsementcredential_schema.json",
}

# Which schema applies to a credential, by its `type` (OB 3.0 §B.1.1 AchievementCredential, whose
# alias is OpenBadgeCredential; §B.1.x EndorsementCredential).  A Profile is not a credential, so
# it is never inferred: ask for kind="profile" explicitly.
_KIND_BY_TYPE: dict[str, str] = {
    "AchievementCredential": ACHIEVEMENT_CREDENTIAL,
    "OpenBadgeCredential": ACHIEVEMENT_CREDENTIAL,
    "EndorsementCredential": ENDORSEMENT_CREDENTIAL,
}

#: How many problems the exception message lists (``.errors`` has them all).
MESSAGE_ERRORS = 3
_MAX_PROBLEM_CHARS = 240

# RFC 3339 §5.6 date-time (the schemas' `format: date-time`; OB 3.0 DateTimeZ).  jsonschema only
# checks this format with the optional `rfc3339-validator` package; we do not add a dependency for
# one regular expression, so the check is ours.
_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.\d+)?"
    r"(?:[Zz]|[+-](?P<oh>\d{2}):(?P<om>\d{2}))",
    re.ASCII,
)


def is_rfc3339_datetime(value: object) -> bool:
    """True when ``value`` is a string in RFC 3339 date-time form with a real calendar date.

    Non-strings return True: the schema's ``type`` keyword, not ``format``, judges them.
    """
    if not isinstance(value, str):
        return True
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"])
    offset_h, offset_m = int(match["oh"] or 0), int(match["om"] or 0)
    # RFC 3339 allows a leap second (60); the other fields must be in range.
    if hour > 23 or minute > 59 or second > 60 or offset_h > 23 or offset_m > 59:
        return False
    year, month, day = (int(part) for part in match["date"].split("-"))
    try:
        date(year, month, day)  # a real calendar date (strptime's check, without its cost)
    except ValueError:
        return False
    return True


@functools.cache
def _format_checker() -> FormatChecker:
    """The draft 2019-09 checkers jsonschema has without extra packages, plus our date-time.

    Built in: ``date``, ``email``, ``ipv4``, ``ipv6``, ``regex``, ``uuid``...  ``uri`` would need
    the ``rfc3987`` package; the OB schemas declare no ``format: uri`` so nothing is lost.
    """
    checker = FormatChecker(formats=Draft201909Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time")(is_rfc3339_datetime)
    return checker


def _refuse_retrieval(uri: str) -> referencing.Resource[Any]:
    # Offline by design: a $ref outside the bundled schemas is an error, never a download.
    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class


@functools.cache
def _load(kind: str) -> dict[str, Any]:
    with (SCHEMA_DIR / f"{kind}.json").open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@functools.cache
def _registry() -> referencing.Registry[Any]:
    """Every bundled schema under its ``$id`` (and its ``credentialSchema`` id), nothing more."""
    resources: list[tuple[str, referencing.Resource[Any]]] = []
    for kind in KINDS:
        resource = referencing.jsonschema.DRAFT201909.create_resource(_load(kind))
        resources.append((_load(kind)["$id"], resource))
        if kind in CREDENTIAL_SCHEMA_IDS:
            resources.append((CREDENTIAL_SCHEMA_IDS[kind], resource))
    registry: referencing.Registry[Any] = referencing.Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]
    return registry.with_resources(resources).crawl()


def _compile(schema: Mapping[str, Any]) -> Validator:
    """A validator for ``schema`` using its declared draft, the bundled registry, our formats.

    Raises:
        jsonschema.exceptions.SchemaError: the schema itself is invalid for its draft.
        SchemaValidationError: the schema declares a draft other than 2019-09.
    """
    cls = validator_for(schema, default=None)
    if cls is not Draft201909Validator:
        raise SchemaValidationError(
            f"bundled schema declares {schema.get('$schema')!r}; only draft 2019-09 is supported"
        )
    cls.check_schema(schema)
    return cls(schema, registry=_registry(), format_checker=_format_checker())


@functools.cache
def _validator(kind: str) -> Validator:
    # Compiled once per process: validation sits on the verifier's hot path.
    return _compile(_load(kind))


# -- the fast path ------------------------------------------------------------------------------
# jsonschema in pure Python takes about a third of verifying a small credential.  jsonschema-rs
# (MIT, compiled) answers "valid?" in a few microseconds, with the same bundled registry (no
# retrieval), our own `format` functions and the same draft.  Only its *valid* verdict is used:
# when it finds a problem, jsonschema judges the document again and describes what is wrong, so
# the verdict on an invalid document and every message are jsonschema's.  Where the two libraries
# could disagree on a valid verdict the fast path is not taken: values that are not plain JSON
# types (jsonschema-rs takes a tuple for an array; jsonschema does not).  Tests compare both
# libraries on every example, every tampered asset and on generated variants of them.

_JSON_TYPES = frozenset({dict, list, str, int, float, bool, type(None)})


def _plain_json(document: object) -> bool:
    """True when every value in ``document`` is exactly a JSON type (no subclasses, no tuples)."""
    stack = [document]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind not in _JSON_TYPES:
            return False
        if kind is dict:
            if not all(type(key) is str for key in node):  # type: ignore[attr-defined]
                return False
            stack.extend(node.values())  # type: ignore[attr-defined]
        elif kind is list:
            stack.extend(node)  # type: ignore[arg-type]
    return True


def _refuse_retrieval_fast(uri: str) -> Any:
    raise ValueError(f"{uri} is not a bundled schema; schemas are never fetched")


def _formats_used(node: object, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            found.add(node["format"])
        for value in node.values():
            _formats_used(value, found)
    elif isinstance(node, list):
        for value in node:
            _formats_used(value, found)
    return found


def _format_function(name: str) -> Any:
    checker = _format_checker()

    def conforms(value: object) -> bool:
        # The very function jsonschema uses; a format it does not check passes, as there.
        return bool(checker.conforms(value, name))

    return conforms


@functools.cache
def _fast_validator(kind: str) -> Any:
    """jsonschema-rs over the bundled schemas, compiled once per process."""
    resources: list[tuple[str, Any]] = []
    for other in KINDS:
        resources.append((_load(other)["$id"], _load(other)))
        if other in CREDENTIAL_SCHEMA_IDS:
            resources.append((CREDENTIAL_SCHEMA_IDS[other], _load(other)))
    registry = jsonschema_rs.Registry(
        resources, draft=jsonschema_rs.Draft201909, retriever=_refuse_retrieval_fast
    )
    formats = set().union(*(_formats_used(_load(other), set()) for other in KINDS))
    return jsonschema_rs.Draft201909Validator(
        _load(kind),
        registry=registry,
        retriever=_refuse_retrieval_fast,
        validate_formats=True,
        formats={name: _format_function(name) for name in sorted(formats)},
    )


def fast_verdict(document: object, kind: str) -> bool:
    """True when jsonschema-rs finds ``document`` valid for the bundled schema ``kind``.

    False means "ask jsonschema": a problem was found, or the document holds values that are
    not plain JSON types, or jsonschema-rs could not take it.
    """
    validator = _fast_validator(kind)
    if not _plain_json(document):
        return False
    try:
        return bool(validator.is_valid(document))
    except (ValueError, OverflowError, RecursionError):
        return False


def _types(document: object) -> list[str]:
    if not isinstance(document, Mapping):
        return []
    value = document.get("type")
    # The compacted form (OB 3.0 Serialization) may carry a single string.
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def schema_for(document: object) -> str | None:
    """The kind of bundled schema that applies to ``document``, judged by its ``type``.

    Returns:
        ``"achievementcredential"`` for AchievementCredential/OpenBadgeCredential,
        ``"endorsementcredential"`` for EndorsementCredential, or None when the document is not
        an Open Badges credential (the verifier then reports the schema check "not-applicable").

    Raises:
        SchemaValidationError: the ``type`` names both an achievement and an endorsement
            credential, so no single schema applies.
    """
    kinds = {_KIND_BY_TYPE[t] for t in _types(document) if t in _KIND_BY_TYPE}
    if len(kinds) > 1:
        raise SchemaValidationError(
            "document type names both an AchievementCredential and an EndorsementCredential; "
            "no single Open Badges schema applies"
        )
    return kinds.pop() if kinds else None


def _resolve_kind(document: object, kind: str | None) -> str:
    if kind is None:
        inferred = schema_for(document)
        if inferred is None:
            raise SchemaValidationError(
                "cannot tell which Open Badges schema applies: type "
                f"{_types(document)!r} names none of {sorted(_KIND_BY_TYPE)}"
            )
        return inferred
    if kind not in KINDS:
        raise SchemaValidationError(
            f"unknown schema kind {kind!r}; expected one of {', '.join(KINDS)}"
        )
    return kind


def _json_path(parts: Iterable[str | int]) -> str:
    """``credentialSubject.result[0].type``; ``$`` for the document itself."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


def _describe(error: ValidationError) -> str:
    # For oneOf/anyOf (e.g. ProfileRef: a URI or a Profile) the top error only says "not valid
    # under any of the given schemas"; the best-matching branch error names the real problem.
    # A branch that rejected the value itself on `type` is the wrong branch for it: skip it.
    if error.context:
        branches = [
            e
            for e in error.context
            if not (e.validator == "type" and e.absolute_path == error.absolute_path)
        ] or error.context
        error = best_match(branches)
    parts: list[str | int] = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        # Name the missing property in the path itself: `credentialSubject.achievement.criteria`.
        missing = [
            name
            for name in error.validator_value
            if name not in error.instance and error.message == f"{name!r} is a required property"
        ]
        parts.extend(missing[:1])
    message = error.message
    # Messages start with the offending value's repr; for an object or array that can be the
    # whole document, so name its kind instead: "proof: an object is not of type 'array'".
    if isinstance(error.instance, Mapping | list):
        shown = repr(error.instance)
        if message.startswith(shown):
            kind = "an object" if isinstance(error.instance, Mapping) else "an array"
            message = kind + message[len(shown) :]
    if len(message) > _MAX_PROBLEM_CHARS:
        message = message[: _MAX_PROBLEM_CHARS - 1] + "…"
    return f"{_json_path(parts)}: {message}"


def compacted_views(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document in the shapes the 1EdTech JSON Schema can judge.

    The schema only knows the "expanded" JSON shape; OB 3.0 §Serialization ("compacted document
    form") also permits single values for ``type``, ``proof``, ``credentialSchema`` and
    ``termsOfUse``, and VC DM 2.0 §4.10 allows several ``credentialStatus`` entries where the
    schema allows one object.  Each status entry is judged in a view of its own.

    A document that passes only through these views does *not* match the schema as published:
    :mod:`credentials.schema_conformance` uses them to tell a permitted departure from a real
    problem, never to report a match.
    """
    view = dict(document)
    for name in ("type", "proof", "credentialSchema", "termsOfUse"):
        if name in view and not isinstance(view[name], list):
            view[name] = [view[name]]
    statuses = view.get("credentialStatus")
    if isinstance(statuses, list) and statuses:
        return [{**view, "credentialStatus": entry} for entry in statuses]
    return [view]


def errors_for(
    document: object, kind: str | None = None, *, allow_compacted: bool = False
) -> list[str]:
    """Every schema problem in ``document``, each as ``"<json path>: <message>"``, sorted by path.

    ``allow_compacted`` judges the document through :func:`compacted_views` (what a verifier
    accepts); without it the document must have exactly the schema's shape (what we issue).

    Returns:
        An empty list when the document is valid.

    Raises:
        SchemaValidationError: ``kind`` is unknown, or is None and cannot be inferred from
            ``type``.
    """
    resolved = _resolve_kind(document, kind)
    validator = _validator(resolved)
    views = (
        compacted_views(document)
        if allow_compacted and isinstance(document, Mapping)
        else [document]
    )
    problems: list[str] = []
    for view in views:
        if fast_verdict(view, resolved):
            continue
        errors = sorted(
            validator.iter_errors(view),
            key=lambda e: ([str(p) for p in e.absolute_path], e.message),
        )
        problems.extend(_describe(error) for error in errors if _describe(error) not in problems)
    return problems


def validate(document: object, kind: str | None = None, *, allow_compacted: bool = False) -> None:
    """Validate ``document`` against the bundled schema for ``kind`` (inferred from ``type``).

    Raises:
        SchemaValidationError: the document does not validate (the message lists the first
            few problems with their JSON paths; ``.errors`` lists all of them), or ``kind`` is
            unknown or cannot be inferred.
    """
    resolved = _resolve_kind(document, kind)
    problems = errors_for(document, resolved, allow_compacted=allow_compacted)
    if not problems:
        return
    shown = "; ".join(problems[:MESSAGE_ERRORS])
    more = len(problems) - MESSAGE_ERRORS
    suffix = f" (and {more} more)" if more > 0 else ""
    raise SchemaValidationError(
        f"document does not validate against the {resolved} schema: {shown}{suffix}",
        errors=problems,
    )
