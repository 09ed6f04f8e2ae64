"""Which VC data model a credential follows, and the VC Data Model 1.1 validity rules.

Pure functions (no Flask, no database).  A credential whose first ``@context`` is
``https://www.w3.org/2018/credentials/v1`` is a VC 1.1 credential; every other credential we accept
starts with the VC 2.0 context.  The two models name and read the validity dates differently:

* VC DM 2.0 §4.9: ``validFrom`` / ``validUntil`` are optional ``xsd:dateTimeStamp`` values (the
  time zone is required) — judged by the verifier itself.
* VC DM 1.1 §4.6 "Issuance Date": ``issuanceDate`` is REQUIRED, an XML Schema 1.1 ``dateTime``
  (a time zone is optional there), the moment the credential becomes valid — "which could be a
  date and time in the future"; §4.7 "Expiration Date": ``expirationDate``, if present, the moment
  it ceases to be valid.  The VC v1 context also defines ``validFrom``/``validUntil`` (reserved
  for forward compatibility): when a 1.1 credential carries them too, they bound it as well —
  the verifier never accepts a moment that either reading refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from .jsonld import VC_V1_CONTEXT

VC_1_1 = "VC 1.1"
VC_2_0 = "VC 2.0"

#: The outcome of one date check; the same words as the verifier's check statuses.
Outcome = Literal["passed", "failed", "not-applicable"]

# XML Schema 1.1 Part 2 §3.3.7 dateTime, lexical space (the time zone is optional).
_XSD_DATETIME = re.compile(
    r"(?P<date>-?\d{4,}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?"
)


def data_model_of(document: Mapping[str, Any]) -> str:
    """``"VC 1.1"`` when the first ``@context`` is the VC 1.1 context, else ``"VC 2.0"``."""
    contexts = document.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    return VC_1_1 if first == VC_V1_CONTEXT else VC_2_0


def parse_xsd_datetime(value: Any) -> tuple[datetime, bool] | None:
    """(the moment, whether it named a time zone) for an ``xsd:dateTime``; ``None`` when the
    value is not one.  A value without a time zone is read as UTC (the caller says so)."""
    if not isinstance(value, str):
        return None
    match = _XSD_DATETIME.fullmatch(value.strip())
    if match is None:
        return None
    fraction = (match["fraction"] or "")[:7]  # Python keeps microseconds: 6 digits after "."
    zone = match["zone"]
    text = f"{match['date']}T{match['time']}{fraction}"
    if zone is not None:
        text += "+00:00" if zone == "Z" else zone
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:  # month 13, year 0, a year beyond 9999...
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC), False
    return moment, True


def vc11_validity(
    document: Mapping[str, Any], *, now: datetime
) -> tuple[list[tuple[str, Outcome, str]], list[str]]:
    """The ``valid-from`` and ``valid-until`` checks of a VC 1.1 credential, and warnings.

    Returns ``([(check name, outcome, detail), ...], [warning, ...])``.
    """
    warnings: list[str] = []
    moments: dict[str, datetime] = {}
    problems: dict[str, str] = {}
    for name in ("issuanceDate", "expirationDate", "validFrom", "validUntil"):
        if name not in document:
            continue
        parsed = parse_xsd_datetime(document[name])
        if parsed is None:
            problems[name] = f"{name} is not an XML Schema dateTime: {document[name]!r}"
            continue
        moments[name], zoned = parsed
        if not zoned:
            warnings.append(f"{name} {document[name]!r} names no time zone; it was read as UTC")

    checks: list[tuple[str, Outcome, str]] = []
    # valid-from: issuanceDate is required (VC DM 1.1 §4.6); validFrom, if present, also bounds.
    starts = [n for n in ("issuanceDate", "validFrom") if n in moments]
    if "issuanceDate" not in document:
        checks.append(
            ("valid-from", "failed", "a VC 1.1 credential must have an issuanceDate (§4.6)")
        )
    elif "issuanceDate" in problems or "validFrom" in problems:
        checks.append(
            ("valid-from", "failed", problems.get("issuanceDate") or problems["validFrom"])
        )
    else:
        latest = max(starts, key=lambda n: moments[n])
        if now < moments[latest]:
            checks.append(("valid-from", "failed", f"not valid yet: {latest} {document[latest]}"))
        else:
            checks.append(("valid-from", "passed", f"issued {document['issuanceDate']}"))

    # valid-until: expirationDate (§4.7) and validUntil, when present.
    ends = [n for n in ("expirationDate", "validUntil") if n in document]
    if not ends:
        checks.append(("valid-until", "not-applicable", "no expirationDate"))
    elif any(n in problems for n in ends):
        checks.append(("valid-until", "failed", next(problems[n] for n in ends if n in problems)))
    else:
        earliest = min(ends, key=lambda n: moments[n])
        start = max((moments[n] for n in starts), default=None)
        if start is not None and moments[earliest] < start:
            checks.append(("valid-until", "failed", f"{earliest} is before the start: never valid"))
        elif now > moments[earliest]:
            checks.append(("valid-until", "failed", f"expired on {document[earliest]}"))
        else:
            checks.append(("valid-until", "passed", f"valid until {document[earliest]}"))
    return checks, warnings
