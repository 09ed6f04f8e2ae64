"""The ``schema`` check's judgement: a credential against the 1EdTech Open Badges 3.0 JSON Schema
exactly as published, and whether its departures are forms the specifications themselves permit.

Pure (no Flask, no database).  A document *matches* only when the published schema, run on the
document as it is, finds nothing: the errors reported are that run's own errors, never those of
a reshaped copy.  Two departures are permitted by the specifications while the published schema
rejects them; they are reported as such (the verifier's ``warning``), never as a match:

* ``credentialStatus`` as a list — VC Data Model 2.0 §4.10 allows one or more status entries
  (revocation and suspension); the OB 3.0 schema allows exactly one object.
* single values for ``type``, ``proof``, ``credentialSchema`` and ``termsOfUse`` — OB 3.0
  §Serialization "compacted document form"; the published (non-compacted) schema wants arrays.

A departure is permitted only when the document, reshaped into what the schema can judge
(:func:`credentials.schema.compacted_views`: each status entry on its own, single values in
lists), has no other problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import schema

__all__ = ["STATUS_LIST", "SchemaVerdict", "judge", "permitted_forms"]

#: How many of the validator's errors a one-line summary names.
SHOWN_ERRORS = 3

_COMPACTED = ("type", "proof", "credentialSchema", "termsOfUse")

#: The permitted form of a credential with several status entries (see :func:`permitted_forms`).
STATUS_LIST = "credentialStatus is a list (VC Data Model 2.0 §4.10 allows several status entries)"


@dataclass(frozen=True)
class SchemaVerdict:
    """What the published schema says of one document."""

    #: The schema kind (``achievementcredential``, ``endorsementcredential``).
    kind: str
    #: The validator's own errors on the document as it is (``"<path>: <message>"``); empty when
    #: the document matches.
    errors: tuple[str, ...]
    #: When every error comes from forms the specifications permit: which forms, and where they
    #: are permitted.  Empty when the document matches or has other problems.
    permitted_by: tuple[str, ...]

    @property
    def matches(self) -> bool:
        """The document validates against the schema exactly as published."""
        return not self.errors

    @property
    def permitted(self) -> bool:
        """It does not match, but only because of forms the specifications permit."""
        return bool(self.errors) and bool(self.permitted_by)

    def summary(self) -> str:
        """The first few errors, ``; ``-separated, with how many more there are."""
        shown = "; ".join(self.errors[:SHOWN_ERRORS])
        more = len(self.errors) - SHOWN_ERRORS
        return shown + (f" (and {more} more)" if more > 0 else "")


def permitted_forms(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The permitted departures from the published schema's shape that ``document`` uses."""
    forms: list[str] = []
    if isinstance(document.get("credentialStatus"), list):
        forms.append(STATUS_LIST)
    single = [
        name for name in _COMPACTED if name in document and not isinstance(document[name], list)
    ]
    if single:
        forms.append(
            f"{', '.join(single)} as a single value (OB 3.0 Serialization, compacted document form)"
        )
    return tuple(forms)


def judge(document: Mapping[str, Any], kind: str) -> SchemaVerdict:
    """Validate ``document`` against the bundled schema ``kind`` as published.

    Raises:
        SchemaValidationError: ``kind`` is not a bundled schema.
    """
    errors = tuple(schema.errors_for(document, kind))
    if not errors:
        return SchemaVerdict(kind, (), ())
    forms = permitted_forms(document)
    if forms and not schema.errors_for(document, kind, allow_compacted=True):
        return SchemaVerdict(kind, errors, forms)
    return SchemaVerdict(kind, errors, ())
