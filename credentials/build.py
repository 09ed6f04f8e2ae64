"""Plain data in, unsigned Open Badges 3.0 documents out (the OB 3.0 §B.1 data model classes).

Every builder validates its result against the bundled 1EdTech JSON Schema before returning it.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from credentials import schema
from credentials.errors import MalformedInputError
from credentials.iri import is_absolute_iri

__all__ = [
    "OB_CONTEXT",
    "OB_EXTENSIONS_CONTEXT",
    "VC_V2_CONTEXT",
    "Achievement",
    "AchievementSubject",
    "Alignment",
    "Criteria",
    "EndorsementSubject",
    "Evidence",
    "IdentityObject",
    "Image",
    "Profile",
    "Result",
    "ResultDescription",
    "RubricCriterionLevel",
    "build_achievement_credential",
    "build_endorsement_credential",
    "sri_digest",
    "timestamp",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
# OB 3.0 §Serialization: issuers use the 3.0.3 context (the schema accepts any 3.0.x).
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# Defines only the 1EdTech type names below.  The 3.0.3 context does not define them, so a
# document using one without this context would have that type dropped from its signature.
OB_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
_EXTENSION_TYPES = frozenset(
    {"1EdTechJsonSchemaValidator2019", "1EdTechRevocationList", "1EdTechCredentialRefresh"}
)
JSON_SCHEMA_VALIDATOR = "1EdTechJsonSchemaValidator2019"

# The properties each credentialStatus type may carry: exactly the terms its context defines.
# Any other key would pass the schema (additionalProperties: true) yet be dropped by JSON-LD
# processing, i.e. shown to readers but not covered by the signature.
_STATUS_TERMS: dict[str, frozenset[str]] = {
    # VC Bitstring Status List v1.0 §2.1; type-scoped context in credentials/v2.
    "BitstringStatusListEntry": frozenset(
        {
            "id",
            "type",
            "statusPurpose",
            "statusListIndex",
            "statusListCredential",
            "statusMessage",
            "statusReference",
            "statusSize",
        }
    ),
    # 1EdTech Revocation List (VCRL 1.0); only the type name is defined, by extensions.json.
    "1EdTechRevocationList": frozenset({"id", "type"}),
}

# RFC 3986 §4.3 absolute URI: a scheme, a colon, then no whitespace, controls or delimiters
# that are never legal in a URI.
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f<>\"{}|\\^`]+")
# Values that displayers turn into links or <img> sources.  A `javascript:` (or any other
# scheme's) URI there would be an injection vector, so only the web and, where OB 3.0 allows a
# Data URI (Image.id, Evidence.id), `data:` pass.
_WEB = ("http", "https")
_WEB_OR_DATA = ("http", "https", "data")
_IDENTITY_HASH = re.compile(r"sha256\$[0-9a-fA-F]{64}|md5\$[0-9a-fA-F]{32}")
_SRI = re.compile(r"(sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}")
# Multibase base58btc (`z`) or base64url-no-pad (`u`), the two encodings Data Integrity uses.
_MULTIBASE = re.compile(r"z[1-9A-HJ-NP-Za-km-z]+|u[A-Za-z0-9_-]+")
# OB 3.0 §B.1 Result.status (ResultStatusType).
_RESULT_STATUSES = frozenset(
    {"Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"}
)


# --- input checks -------------------------------------------------------------------------


def _fail(where: str, problem: str) -> MalformedInputError:
    return MalformedInputError(f"{where} {problem}")


def _require(where: str, value: object) -> None:
    if value is None or value == "" or value == ():
        raise _fail(where, "is required")


def _check_uri(where: str, value: object, *, schemes: Sequence[str] | None = None) -> None:
    """Raise unless ``value`` is an absolute URI (``urn:uuid:…``, ``https://…``, ``did:…``)."""
    # RFC 3987 too: anything else would be dropped from the RDF that is signed (jsonld.py).
    if (
        not isinstance(value, str)
        or _ABSOLUTE_URI.fullmatch(value) is None
        or not is_absolute_iri(value)
    ):
        raise _fail(where, f"must be an absolute URI (urn:uuid:…, https://…, did:…), got {value!r}")
    scheme = value.split(":", 1)[0].lower()
    if schemes is not None and scheme not in schemes:
        raise _fail(where, f"must use one of the schemes {', '.join(schemes)}, got {scheme!r}")


def timestamp(value: datetime | str, *, where: str = "timestamp") -> str:
    """Format a timezone-aware datetime as an XML Schema dateTimeStamp in UTC (OB DateTimeZ).

    Strings are accepted in RFC 3339 form with an offset.  Microseconds are truncated.

    Returns:
        ``YYYY-MM-DDTHH:MM:SSZ``.

    Raises:
        MalformedInputError: naive datetime, a string that is not RFC 3339, or another type.
    """
    if isinstance(value, str):
        if not schema.is_rfc3339_datetime(value):
            raise _fail(where, f"must be an RFC 3339 date-time with a time zone, got {value!r}")
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:  # e.g. a leap second, which Python cannot represent
            raise _fail(where, f"is not a representable date-time: {value!r}") from exc
    if not isinstance(value, datetime):
        raise _fail(where, f"must be a datetime or an RFC 3339 string, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _fail(where, "must be timezone-aware (a naive datetime has no defined instant)")
    utc = value.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat() + "Z"


def _instant(where: str, value: datetime | str) -> datetime:
    return datetime.fromisoformat(timestamp(value, where=where))


def sri_digest(data: bytes, algorithm: str = "sha384") -> str:
    """The Subresource Integrity string for ``data``, e.g. ``sha384-…`` (for ``digestSRI``).

    Raises:
        ValueError: ``algorithm`` is not sha256, sha384 or sha512.
    """
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise ValueError(f"SRI supports sha256, sha384 and sha512, not {algorithm!r}")
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"


# --- the generic serializer ---------------------------------------------------------------


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _json_name(field: dataclasses.Field[Any]) -> str:
    # A field's JSON term is its camelCase name unless metadata names it (e.g. `digestSRI`).
    return str(field.metadata.get("json") or _camel(field.name))


def _serialize(value: Any) -> Any:
    if isinstance(value, _Node):
        return value.to_json()
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, list | tuple):
        return [_serialize(item) for item in value]
    return value


def _is_empty(value: object) -> bool:
    # OB 3.0 §Serialization (JSON): omit null values and empty arrays.
    return value is None or (isinstance(value, list | tuple) and not value)


class _Node:
    """Base of the data model classes: generic checks and camelCase JSON serialization."""

    #: The JSON-LD ``type``: a tuple is emitted as an array, a string as a single value (the
    #: schema requires a plain string for Image and IdentityObject).
    json_type: ClassVar[str | tuple[str, ...] | None] = None
    #: Fields that hold a timestamp and are emitted in DateTimeZ form.
    _timestamps: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        # Lists are accepted for multi-valued fields but stored as tuples, keeping instances
        # immutable and hashable.
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if isinstance(value, list):
                object.__setattr__(self, field.name, tuple(value))
        for name in self._timestamps:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _instant(self._where(name), value))
        self._check()

    def _where(self, name: str) -> str:
        return f"{type(self).__name__}.{name}"

    def _check(self) -> None:
        """Raise MalformedInputError when a required field is missing or a value is invalid."""

    def to_json(self) -> dict[str, Any]:
        """This node as an OB 3.0 JSON object: camelCase terms, ``id`` and ``type`` first.

        Returns:
            A new dict without null values or empty arrays.
        """
        out: dict[str, Any] = {}
        if getattr(self, "id", None) is not None:
            out["id"] = getattr(self, "id")  # noqa: B009 - not every node has an id
        if self.json_type is not None:
            json_type = self.json_type
            out["type"] = list(json_type) if isinstance(json_type, tuple) else json_type
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if field.name == "id" or _is_empty(value):
                continue
            out[_json_name(field)] = _serialize(value)
        return out


# --- OB 3.0 §B.1 data model classes -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Image(_Node):
    """OB 3.0 §B.1 Image: an image's URI or Data URI, with an optional caption."""

    json_type = "Image"
    id: str
    caption: str | None = None

    def _check(self) -> None:
        _check_uri(self._where("id"), self.id, schemes=_WEB_OR_DATA)


@dataclass(frozen=True, kw_only=True)
class Profile(_Node):
    """OB 3.0 §B.1 Profile: the issuer (or creator, or source) of a credential."""

    json_type = ("Profile",)
    id: str
    name: str | None = None
    url: str | None = None
    email: str | None = None
    phone: str | None = None
    description: str | None = None
    image: Image | None = None

    def _check(self) -> None:
        _check_uri(self._where("id"), self.id)
        if self.url is not None:
            _check_uri(self._where("url"), self.url, schemes=_WEB)
        if self.email is not None and "@" not in self.email:
            raise _fail(self._where("email"), f"is not an email address: {self.email!r}")


@dataclass(frozen=True, kw_only=True)
class Criteria(_Node):
    """OB 3.0 §B.1 Criteria: what a recipient had to do (a page, a narrative, or both)."""

    id: str | None = None
    narrative: str | None = None

    def _check(self) -> None:
        # The spec says SHOULD provide at least one; an issuer we control can always do so.
        if not self.id and not self.narrative:
            raise _fail(self._where("id"), "or Criteria.narrative is required")
        if self.id is not None:
            _check_uri(self._where("id"), self.id)


@dataclass(frozen=True, kw_only=True)
class Alignment(_Node):
    """OB 3.0 §B.1 Alignment: a link to a framework item (CASE CFItem, CTDL...)."""

    json_type = ("Alignment",)
    target_name: str
    target_url: str
    target_code: str | None = None
    target_description: str | None = None
    target_framework: str | None = None
    target_type: str | None = None

    def _check(self) -> None:
        _require(self._where("target_name"), self.target_name)
        _check_uri(self._where("target_url"), self.target_url, schemes=_WEB)


@dataclass(frozen=True, kw_only=True)
class RubricCriterionLevel(_Node):
    """OB 3.0 §B.1 RubricCriterionLevel: one level of a rubric criterion (e.g. "Mastered")."""

    json_type = ("RubricCriterionLevel",)
    id: str
    name: str
    description: str | None = None
    level: str | None = None
    points: str | None = None
    alignment: tuple[Alignment, ...] = ()

    def _check(self) -> None:
        _check_uri(self._where("id"), self.id)
        _require(self._where("name"), self.name)


@dataclass(frozen=True, kw_only=True)
class ResultDescription(_Node):
    """OB 3.0 §B.1 ResultDescription: a kind of result an Achievement can have."""

    json_type = ("ResultDescription",)
    id: str
    name: str
    result_type: str
    allowed_value: tuple[str, ...] = ()
    required_level: str | None = None
    required_value: str | None = None
    rubric_criterion_level: tuple[RubricCriterionLevel, ...] = ()
    value_min: str | None = None
    value_max: str | None = None
    alignment: tuple[Alignment, ...] = ()

    def _check(self) -> None:
        _check_uri(self._where("id"), self.id)
        _require(self._where("name"), self.name)
        _require(self._where("result_type"), self.result_type)
        level_ids = {level.id for level in self.rubric_criterion_level}
        # requiredLevel is "the id of the rubric criterion level required to pass".
        if self.required_level is not None and self.required_level not in level_ids:
            raise _fail(
                self._where("required_level"),
                f"{self.required_level!r} is not the id of one of its rubric_criterion_level",
            )
        if self.allowed_value and self.required_value not in (None, *self.allowed_value):
            raise _fail(
                self._where("required_value"),
                f"{self.required_value!r} is not one of allowed_value",
            )


@dataclass(frozen=True, kw_only=True)
class Achievement(_Node):
    """OB 3.0 §B.1 Achievement: what was accomplished (badge, course, degree, competency...)."""

    json_type = ("Achievement",)
    id: str
    name: str
    description: str
    criteria: Criteria
    achievement_type: str | None = None
    image: Image | None = None
    alignment: tuple[Alignment, ...] = ()
    result_description: tuple[ResultDescription, ...] = ()
    tag: tuple[str, ...] = ()
    creator: Profile | None = None
    credits_available: float | None = None
    field_of_study: str | None = None
    human_code: str | None = None
    specialization: str | None = None
    version: str | None = None
    in_language: str | None = None

    def _check(self) -> None:
        _check_uri(self._where("id"), self.id)
        _require(self._where("name"), self.name)
        _require(self._where("description"), self.description)
        if not isinstance(self.criteria, Criteria):
            raise _fail(self._where("criteria"), "is required (a Criteria)")
        _check_number(self._where("credits_available"), self.credits_available)


def _check_number(where: str, value: object) -> None:
    # bool is an int subclass; True credits would serialize as `true` and fail the schema.
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or value < 0
    ):
        raise _fail(where, f"must be a non-negative number, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class IdentityObject(_Node):
    """OB 3.0 §B.1 IdentityObject: a (usually hashed) identifier of the recipient."""

    json_type = "IdentityObject"
    identity_hash: str
    identity_type: str
    hashed: bool
    salt: str | None = None

    @classmethod
    def hashed_email(cls, email: str, salt: str) -> IdentityObject:
        """An ``emailAddress`` identity whose hash is ``sha256$`` + hex(SHA-256(email + salt)).

        OB 3.0 §B.1 IdentityHash: identifier and salt are UTF-8 encoded, concatenated and
        hashed; the spec's own example is ``'a@example.com' + 'Kosher'``.  The spec defines no
        normalization, so the email is hashed exactly as given (no lower-casing or trimming): a
        verifier recomputes the hash from the plaintext the recipient presents, and cannot guess
        a normalization the spec does not name.  Callers wanting case-insensitive matching must
        normalize before calling, and do the same when checking.

        Raises:
            MalformedInputError: empty email or salt.  An unsalted hash of an email address is
                reversible by dictionary attack, so a salt is required here.
        """
        _require("IdentityObject.hashed_email email", email)
        _require("IdentityObject.hashed_email salt", salt)
        digest = hashlib.sha256((email + salt).encode("utf-8")).hexdigest()
        return cls(
            identity_hash=f"sha256${digest}", identity_type="emailAddress", hashed=True, salt=salt
        )

    def _check(self) -> None:
        _require(self._where("identity_hash"), self.identity_hash)
        _require(self._where("identity_type"), self.identity_type)
        if not isinstance(self.hashed, bool):
            raise _fail(self._where("hashed"), f"must be a bool, got {self.hashed!r}")
        if self.hashed and _IDENTITY_HASH.fullmatch(self.identity_hash) is None:
            raise _fail(
                self._where("identity_hash"),
                "must be 'sha256$<64 hex>' or 'md5$<32 hex>' when hashed is true",
            )


@dataclass(frozen=True, kw_only=True)
class Result(_Node):
    """OB 3.0 §B.1 Result: a result the recipient earned (grade, level reached, status)."""

    json_type = ("Result",)
    result_description: str | None = None
    achieved_level: str | None = None
    status: str | None = None
    value: str | None = None
    alignment: tuple[Alignment, ...] = ()

    def _check(self) -> None:
        if self.result_description is not None:
            _check_uri(self._where("result_description"), self.result_description)
        if self.achieved_level is not None:
            _check_uri(self._where("achieved_level"), self.achieved_level)
        if self.status is not None and self.status not in _RESULT_STATUSES:
            raise _fail(
                self._where("status"),
                f"must be one of {sorted(_RESULT_STATUSES)}, got {self.status!r}",
            )


@dataclass(frozen=True, kw_only=True)
class Evidence(_Node):
    """OB 3.0 §B.1 Evidence, optionally with a VC 2.0 §5.3 digest of the resource at ``id``.

    OB 3.0 has no digest term of its own.  ``digestSRI`` and ``digestMultibase`` are defined at
    the top level of the credentials/v2 context (not scoped to a type), so they are in scope in
    an Evidence node and covered by the signature.
    """

    json_type = ("Evidence",)
    id: str | None = None
    name: str | None = None
    narrative: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None
    digest_sri: str | None = dataclasses.field(default=None, metadata={"json": "digestSRI"})
    digest_multibase: str | None = None

    def _check(self) -> None:
        if self.id is not None:
            _check_uri(self._where("id"), self.id, schemes=_WEB_OR_DATA)
        if (self.digest_sri or self.digest_multibase) and self.id is None:
            raise _fail(self._where("id"), "is required with a digest (a digest of what?)")
        if self.digest_sri is not None and _SRI.fullmatch(self.digest_sri) is None:
            raise _fail(self._where("digest_sri"), "must be an SRI string like 'sha384-<base64>'")
        multibase = self.digest_multibase
        if multibase is not None and _MULTIBASE.fullmatch(multibase) is None:
            raise _fail(
                self._where("digest_multibase"), "must be multibase ('z…' base58btc or 'u…')"
            )


@dataclass(frozen=True, kw_only=True)
class AchievementSubject(_Node):
    """OB 3.0 §B.1 AchievementSubject: the recipient and the achievement they earned."""

    json_type = ("AchievementSubject",)
    _timestamps = ("activity_start_date", "activity_end_date")
    id: str | None = None
    identifier: tuple[IdentityObject, ...] = ()
    achievement: Achievement
    result: tuple[Result, ...] = ()
    activity_start_date: datetime | str | None = None
    activity_end_date: datetime | str | None = None
    credits_earned: float | None = None
    narrative: str | None = None
    license_number: str | None = None
    role: str | None = None
    term: str | None = None
    image: Image | None = None
    source: Profile | None = None

    def _check(self) -> None:
        # OB 3.0 Verification step 1: the subject is identified by `id` and/or `identifier`.
        if self.id is None and not self.identifier:
            raise _fail(self._where("id"), "or AchievementSubject.identifier is required")
        if self.id is not None:
            _check_uri(self._where("id"), self.id)
        if not isinstance(self.achievement, Achievement):
            raise _fail(self._where("achievement"), "is required (an Achievement)")
        _check_number(self._where("credits_earned"), self.credits_earned)
        start, end = self.activity_start_date, self.activity_end_date
        if isinstance(start, datetime) and isinstance(end, datetime) and end < start:
            raise _fail(self._where("activity_end_date"), "is before activity_start_date")
        self._check_results()

    def _check_results(self) -> None:
        # A Result names its ResultDescription and RubricCriterionLevel by id; both must be
        # declared by the achievement, or displayers cannot interpret the result.
        descriptions = {d.id: d for d in self.achievement.result_description}
        all_levels = {lv.id for d in descriptions.values() for lv in d.rubric_criterion_level}
        for index, result in enumerate(self.result):
            where = f"AchievementSubject.result[{index}]"
            levels = all_levels
            if result.result_description is not None:
                if result.result_description not in descriptions:
                    raise _fail(
                        f"{where}.result_description",
                        f"{result.result_description!r} is not the id of a result_description "
                        "of the achievement",
                    )
                described = descriptions[result.result_description]
                levels = {lv.id for lv in described.rubric_criterion_level}
            if result.achieved_level is not None and result.achieved_level not in levels:
                raise _fail(
                    f"{where}.achieved_level",
                    f"{result.achieved_level!r} is not the id of a rubric_criterion_level of its "
                    "result description",
                )


@dataclass(frozen=True, kw_only=True)
class EndorsementSubject(_Node):
    """OB 3.0 §B.1 EndorsementSubject: the thing endorsed, and what the endorser says of it."""

    json_type = ("EndorsementSubject",)
    id: str
    endorsement_comment: str | None = None

    def _check(self) -> None:
        _check_uri(self._where("id"), self.id)


# --- credentials ----------------------------------------------------------------------------


def _status_entries(value: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None) -> Any:
    """``credentialStatus``: one entry as an object, several as a list, or None.

    OB 3.0 gives AchievementCredential.credentialStatus multiplicity 0..1 and the 1EdTech schema
    requires a single object; VC DM 2.0 §4.10 allows several (e.g. revocation and suspension).
    One entry keeps the document strictly schema-valid; with several, each entry is validated
    on its own (see :func:`credentials.schema.compacted_views`).
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _status_entry(value, "credential_status")
    entries = list(value)
    if not entries:
        return None
    checked = [_status_entry(entry, f"credential_status[{i}]") for i, entry in enumerate(entries)]
    return checked[0] if len(checked) == 1 else checked


def _status_entry(entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise _fail(where, "must be a dict")
    kind = entry.get("type")
    if kind not in _STATUS_TERMS:
        raise _fail(f"{where}.type", f"must be one of {sorted(_STATUS_TERMS)}")
    unknown = sorted(set(entry) - _STATUS_TERMS[kind])
    if unknown:
        raise _fail(
            where,
            f"has {unknown}, which the contexts do not define for {kind} (unsigned data)",
        )
    _check_uri(f"{where}.id", entry.get("id"))
    if kind == "BitstringStatusListEntry":
        _require(f"{where}.statusPurpose", entry.get("statusPurpose"))
        index = entry.get("statusListIndex")
        # Bitstring Status List §2.1: an integer >= 0 expressed as a base-10 string.
        if not isinstance(index, str) or not index.isascii() or not index.isdigit():
            raise _fail(f"{where}.statusListIndex", "must be a base-10 string, e.g. '94'")
        _check_uri(
            f"{where}.statusListCredential",
            entry.get("statusListCredential"),
            schemes=_WEB,
        )
    return copy.deepcopy(dict(entry))


def _uses_extension_types(node: Any) -> bool:
    if isinstance(node, Mapping):
        kinds = node.get("type")
        names = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
        if any(name in _EXTENSION_TYPES for name in names):
            return True
        return any(_uses_extension_types(v) for k, v in node.items() if k != "@context")
    if isinstance(node, list):
        return any(_uses_extension_types(item) for item in node)
    return False


def _endorsements(value: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for index, endorsement in enumerate(value):
        kinds = endorsement.get("type") if isinstance(endorsement, Mapping) else None
        if not isinstance(kinds, list) or "EndorsementCredential" not in kinds:
            raise _fail(f"endorsement[{index}]", "must be an EndorsementCredential document")
        result.append(copy.deepcopy(dict(endorsement)))
    return result


def _credential(
    *,
    kind: str,
    credential_type: str,
    id: str,
    issuer: Profile,
    subject: _Node,
    valid_from: datetime | str,
    valid_until: datetime | str | None,
    awarded_date: datetime | str | None,
    credential_status: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None,
    credential_schema: bool,
    body: dict[str, Any],
) -> dict[str, Any]:
    """Shared assembly of the VC 2.0 envelope; ``body`` holds the class-specific properties."""
    _check_uri("id", id)
    if not isinstance(issuer, Profile):
        raise _fail("issuer", "must be a Profile")
    start = _instant("valid_from", valid_from)
    document: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT, OB_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", credential_type],
        "issuer": issuer.to_json(),
        "validFrom": timestamp(start),
    }
    if valid_until is not None:
        end = _instant("valid_until", valid_until)
        if end <= start:
            raise _fail("valid_until", "must be after valid_from")
        document["validUntil"] = timestamp(end)
    if awarded_date is not None:
        document["awardedDate"] = timestamp(awarded_date, where="awarded_date")
    document.update({key: value for key, value in body.items() if not _is_empty(value)})
    document["credentialSubject"] = subject.to_json()
    status = _status_entries(credential_status)
    if status is not None:
        document["credentialStatus"] = status
    if credential_schema:
        # OB 3.0 Verification step 1 validates against this schema when it is named.
        document["credentialSchema"] = [
            {"id": schema.CREDENTIAL_SCHEMA_IDS[kind], "type": JSON_SCHEMA_VALIDATOR}
        ]
    # The 1EdTech type names are defined only by extensions.json (as in the official
    # fullOpenBadge example); add it whenever one is used, or JSON-LD would drop the type.
    if _uses_extension_types({k: v for k, v in document.items() if k != "@context"}):
        document["@context"].append(OB_EXTENSIONS_CONTEXT)
    schema.validate(document, kind, allow_compacted=isinstance(status, list))
    return document


def build_achievement_credential(
    *,
    id: str,
    issuer: Profile,
    subject: AchievementSubject,
    valid_from: datetime | str,
    valid_until: datetime | str | None = None,
    name: str | None = None,
    description: str | None = None,
    image: Image | None = None,
    evidence: Sequence[Evidence] = (),
    credential_status: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    awarded_date: datetime | str | None = None,
    endorsement: Sequence[Mapping[str, Any]] = (),
    credential_schema: bool = True,
) -> dict[str, Any]:
    """An unsigned OB 3.0 §B.1 AchievementCredential (type OpenBadgeCredential).

    ``endorsement`` holds complete (signed) EndorsementCredential documents, embedded as is.

    Returns:
        A new JSON-ready dict that validates against the bundled achievement credential schema.

    Raises:
        MalformedInputError: a required field is missing or a value is invalid (the message
            names the field); SchemaValidationError (a subclass) if the result fails the schema.
    """
    if not isinstance(subject, AchievementSubject):
        raise _fail("subject", "must be an AchievementSubject")
    if image is not None and not isinstance(image, Image):
        raise _fail("image", "must be an Image")
    for index, item in enumerate(evidence):
        if not isinstance(item, Evidence):
            raise _fail(f"evidence[{index}]", "must be an Evidence")
    body = {
        "name": name,
        "description": description,
        "image": image.to_json() if image is not None else None,
        "evidence": [item.to_json() for item in evidence],
        "endorsement": _endorsements(endorsement),
    }
    return _credential(
        kind=schema.ACHIEVEMENT_CREDENTIAL,
        credential_type="OpenBadgeCredential",
        id=id,
        issuer=issuer,
        subject=subject,
        valid_from=valid_from,
        valid_until=valid_until,
        awarded_date=awarded_date,
        credential_status=credential_status,
        credential_schema=credential_schema,
        body=body,
    )


def build_endorsement_credential(
    *,
    id: str,
    issuer: Profile,
    subject: EndorsementSubject,
    name: str,
    valid_from: datetime | str,
    valid_until: datetime | str | None = None,
    description: str | None = None,
    awarded_date: datetime | str | None = None,
    credential_status: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    credential_schema: bool = True,
) -> dict[str, Any]:
    """An unsigned OB 3.0 §B.1 EndorsementCredential (``name`` is required, 1..1).

    Returns:
        A new JSON-ready dict that validates against the bundled endorsement credential schema.

    Raises:
        MalformedInputError: a required field is missing or a value is invalid (the message
            names the field); SchemaValidationError (a subclass) if the result fails the schema.
    """
    if not isinstance(subject, EndorsementSubject):
        raise _fail("subject", "must be an EndorsementSubject")
    _require("name", name)
    return _credential(
        kind=schema.ENDORSEMENT_CREDENTIAL,
        credential_type="EndorsementCredential",
        id=id,
        issuer=issuer,
        subject=subject,
        valid_from=valid_from,
        valid_until=valid_until,
        awarded_date=awarded_date,
        credential_status=credential_status,
        credential_schema=credential_schema,
        body={"name": name, "description": description},
    )
