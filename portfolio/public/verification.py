"""The verification panel of the public pages: :func:`verify` a credential, the :func:`notices`
a reader must see first, the check-by-check :func:`report`, and reading a submission of the
/verify form (pasted JSON or a baked badge, :func:`load_submission`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_date as babel_format_date
from flask_babel import gettext as _

from credentials import baking
from credentials.budget import WorkBudget
from credentials.errors import BakingError, MalformedInputError
from credentials.foreign_formats import describe_token
from credentials.verify import PASSED, VERDICT_NOT_VERIFIED, VERDICT_VERIFIED, VerificationResult
from portfolio.core import metrics
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from portfolio.public import explanations


def format_date(moment: datetime | None) -> str:
    """A date in the reader's language (``3 March 2024`` / ``3 de marzo de 2024``)."""
    return str(babel_format_date(moment, "long")) if moment is not None else ""


@dataclass(frozen=True)
class Notice:
    """A prominent statement at the top of a credential page."""

    kind: str  # revoked | suspended | expired | not-yet-valid | not-verified
    title: str
    text: str


def _reason(reason: str | None) -> str:
    """``Reason given: …`` ending with exactly one full stop."""
    text = (reason or _("none")).strip()
    given: str = _("Reason given: %(reason)s", reason=text)
    return given + ("" if text.endswith((".", "!", "?")) else ".")


def notices(
    row: IssuedCredential, result: VerificationResult | None, *, now: datetime
) -> list[Notice]:
    """What a reader must know before anything else: revoked, suspended, expired, not yet
    valid, or not verified (for any other reason)."""
    found: list[Notice] = []
    if row.revoked_at is not None:
        found.append(
            Notice(
                "revoked",
                _("This credential has been revoked"),
                _("The issuer revoked it on %(date)s.", date=format_date(row.revoked_at))
                + " "
                + _reason(row.revocation_reason),
            )
        )
    if row.suspended_at is not None:
        found.append(
            Notice(
                "suspended",
                _("This credential is suspended"),
                _("The issuer suspended it on %(date)s.", date=format_date(row.suspended_at))
                + " "
                + _reason(row.suspension_reason),
            )
        )
    valid_until, valid_from = row.valid_until, row.valid_from
    if valid_until is not None and valid_until < now:
        found.append(
            Notice(
                "expired",
                _("This credential has expired"),
                _("It was valid until %(date)s.", date=format_date(valid_until)),
            )
        )
    if valid_from is not None and valid_from > now:
        found.append(
            Notice(
                "not-yet-valid",
                _("This credential is not valid yet"),
                _("It becomes valid on %(date)s.", date=format_date(valid_from)),
            )
        )
    if not found and (result is None or not result.verified):
        found.append(
            Notice(
                "not-verified",
                _("This credential could not be verified"),
                _("At least one check failed or could not be completed. Do not rely on it."),
            )
        )
    return found


@dataclass
class Report:
    """The verification panel's content: one row per check, or an error, or both.

    ``verified`` only for the verdict ``verified`` (genuine, in force, issuer confirmed);
    ``verdict`` also tells a good signature by an unconfirmed issuer apart (docs/verification.md,
    "Issuer trust")."""

    verified: bool
    checks: list[dict[str, str]]
    warnings: list[str]
    error: str | None = None
    #: "VC 2.0" or "VC 1.1" once the contexts were checked (credentials/data_model.py).
    data_model: str | None = None
    #: Proofs of a kind older than Data Integrity 1.0 (credentials/legacy_proofs.py).
    legacy_proofs: list[str] = field(default_factory=list)
    verdict: str = VERDICT_NOT_VERIFIED


def report(result: VerificationResult | None, error: MalformedInputError | None = None) -> Report:
    """Turn a verification result (or a refusal with its partial result) into panel rows, each
    with a title, the status in words and a plain-language explanation."""
    if result is None and error is not None and isinstance(error.result, VerificationResult):
        result = error.result
    rows = [
        {
            "name": check.name,
            "title": explanations.title(check.name),
            "status": check.status,
            "label": explanations.status_label(check.status),
            "explanation": explanations.explain(check.name, check.status),
            "detail": check.detail,
        }
        for check in (result.checks if result else [])
    ]
    verdict = result.verdict if result is not None and error is None else VERDICT_NOT_VERIFIED
    return Report(
        verified=verdict == VERDICT_VERIFIED,
        checks=rows,
        warnings=list(result.warnings) if result else [],
        error=error.message if error is not None else None,
        data_model=_data_model(result),
        legacy_proofs=list(result.legacy_proofs) if result else [],
        verdict=verdict,
    )


def _data_model(result: VerificationResult | None) -> str | None:
    """The data model, once the contexts that name it passed (not a guess on a refusal)."""
    contexts = result.check("contexts") if result else None
    return result.data_model if result and contexts and contexts.status == PASSED else None


def verify(credential: Any) -> tuple[VerificationResult | None, MalformedInputError | None]:
    """The service verifier's result for ``credential``, or the refusal of malformed input
    (which carries the checks run before it), within one request's work budget."""
    try:
        return services.service_verifier(budget=WorkBudget()).verify(credential), None
    except MalformedInputError as exc:
        return None, exc


def load_submission(data: bytes) -> Any:
    """The credential in submitted bytes: unbaked from a PNG or SVG badge, else JSON text.

    Raises :class:`MalformedInputError` (or its ``BakingError``) naming the problem: an empty
    submission, a hostile or broken image, a badge without a credential, a JWT credential.
    """
    if not data.strip():
        raise MalformedInputError(
            "Nothing was submitted: paste a credential or choose a file.", code="EMPTY"
        )
    stripped = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    # A file starting with "<" is meant as an SVG: unbake it directly so that a refused
    # (hostile) SVG is reported as such, not as "not JSON".
    if baking.sniff_image_type(data) == "png" or stripped.startswith(b"<"):
        credential = baking.unbake(data)
        if isinstance(credential, str):
            what = describe_token(credential) or "a JWT-secured credential (VC-JWT)"
            raise BakingError(
                f"the badge holds {what}; this service verifies credentials with embedded "
                "Data Integrity proofs only"
            )
        return credential
    return data


def count_verification(
    result: VerificationResult | None, error: MalformedInputError | None
) -> None:
    """Count one verification of the /verify page in the metrics, with the checks it ran (the
    partial ones of a refusal)."""
    partial = result or (error.result if error is not None else None)
    metrics.count_verification(
        verified=bool(result is not None and result.verified and error is None),
        checks=[check.to_dict() for check in partial.checks]
        if isinstance(partial, VerificationResult)
        else [],
        malformed=error is not None,
    )
