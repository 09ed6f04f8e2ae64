"""What an issue request needs for its data model: VC 2.0 or VC 1.1, the issuer we fill in, the
dates we add, and the status a VC-API client brings along.  Pure: neither Flask nor the database.

Generic VC 1.1 credentials are signed as given (``eddsa-rdfc-2022`` works for both data models,
VC-DI-EdDSA §2.2), as other VC-API issuers do; Open Badges 3.0 credentials are VC 2.0 only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credentials import status
from credentials.errors import MalformedInputError
from credentials.jsonld import DATA_INTEGRITY_V2_CONTEXT, VC_V1_CONTEXT, VC_V2_CONTEXT
from credentials.verify import types_of

VC_2_0 = "2.0"
VC_1_1 = "1.1"
OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/"
OB_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential"})
#: The date fields of each data model: (start, end).  VC DM 2.0 §4.9; VC DM 1.1 §4.6 and §7.5.
DATE_FIELDS = {VC_2_0: ("validFrom", "validUntil"), VC_1_1: ("issuanceDate", "expirationDate")}


def data_model_of(document: Mapping[str, Any]) -> str:
    """``"2.0"`` or ``"1.1"`` from the first ``@context`` (VC DM 2.0 §4.3, VC DM 1.1 §4.1).

    Raises ``MalformedInputError`` (``INVALID_CONTEXT``) for anything else, and for an Open
    Badges credential in the VC 1.1 model: we issue Open Badges 3.0 as VC 2.0 only.
    """
    contexts = document.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else None
    if first == VC_V2_CONTEXT:
        return VC_2_0
    if first == VC_V1_CONTEXT:
        if OB_TYPES.intersection(types_of(document)):
            raise MalformedInputError(
                f"Open Badges 3.0 credentials are issued in the VC 2.0 data model: "
                f"start @context with {VC_V2_CONTEXT}",
                code="INVALID_CONTEXT",
            )
        return VC_1_1
    raise MalformedInputError(
        f"@context must be a list starting with {VC_V2_CONTEXT} (or, for a VC 1.1 "
        f"credential, {VC_V1_CONTEXT})",
        code="INVALID_CONTEXT",
    )


def with_proof_context(document: dict[str, Any], model: str) -> None:
    """VC 1.1: the v1 context does not define Data Integrity proofs, so the Data Integrity
    context is appended when missing (as Digital Bazaar's signers add their suite's context).
    The VC v2 context defines them already."""
    if model == VC_1_1 and DATA_INTEGRITY_V2_CONTEXT not in document["@context"]:
        document["@context"] = [*document["@context"], DATA_INTEGRITY_V2_CONTEXT]


def issuer_value(document: Mapping[str, Any], model: str, profile: dict[str, Any]) -> Any:
    """The ``issuer`` to fill in for a request without one: what the document's contexts can
    say.  The Open Badges context defines the whole Profile; the VC v2 context only ``id``,
    ``name`` and ``description`` (so ``url``, ``email``, ``image`` would not be signed); the VC
    1.1 context only the issuer's URL."""
    contexts = document.get("@context") or []
    if any(isinstance(c, str) and c.startswith(OB_CONTEXT_PREFIX) for c in contexts):
        return profile
    if model == VC_2_0:
        return {k: v for k, v in profile.items() if k in ("id", "name", "description")}
    return profile["id"]


def check_client_status(document: Mapping[str, Any], own_lists_prefix: str) -> None:
    """A ``credentialStatus`` the client brings (VC-API clients may manage their own status):
    each entry an object (its ``type`` is a vc_rules rule), a BitstringStatusListEntry well formed
    (Bitstring Status List §2.1), and none naming one of our own lists — positions there are
    the service's to allocate, and another credential's bit would then speak for this one."""
    raw = document.get("credentialStatus")
    if raw is None:
        return
    entries = raw if isinstance(raw, list) else [raw]
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedInputError(
                "credentialStatus must be one or more objects", code="INVALID_CREDENTIAL_STATUS"
            )
        if status.ENTRY_TYPE in types_of(entry):
            parsed = status.parse_status_entry(entry)
            if parsed.url.startswith(own_lists_prefix):
                raise MalformedInputError(
                    f"credentialStatus names this service's status list {parsed.url}: positions "
                    "there are allocated by the service; leave credentialStatus out, or send "
                    "options.credentialStatus to have one added",
                    code="INVALID_CREDENTIAL_STATUS",
                )
