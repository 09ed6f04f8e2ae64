"""The verdict of a verification in one headline and one sentence with its reason, for the
public pages' banner (``/c/<id>``) and ``/verify`` (issue 16): "Revoked by the issuer on DATE:
REASON", "Altered after signing: the signature does not match", "This file is not a
credential", "Expired on DATE", "Suspended by the issuer", "Could not check: …", "Genuine
signature, issuer not confirmed", "Verified".

Pure: plain values in (the checks' names and statuses, an error's code, what the service knows
of the credential's state, dates already formatted for the reader), a :class:`Verdict` out.
Strings go through gettext (untranslated outside a request); never raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from credentials import foreign_formats

#: Banner tones: the class ``verdict-<tone>`` of the design system.
OK, BAD, WARN, UNKNOWN = "ok", "bad", "warn", "unknown"

#: Refusals that mean "what was submitted is not a credential" (rather than "we could not
#: finish checking one"): credentials/verify.py, credentials/baking.py, the /verify form.
NOT_A_CREDENTIAL_CODES = frozenset(
    {
        "EMPTY",
        "NOT_JSON",
        "NOT_AN_OBJECT",
        "INVALID_TYPE",
        "MISSING_SUBJECT",
        "MISSING_ISSUER",
        "MISSING_CONTEXT",
        "UNSUPPORTED_FORMAT",
        "INVALID_PRESENTATION",
        "NO_CREDENTIAL",
        "BAKING_ERROR",
    }
)

#: Refusals whose message may hold a parser's words ("Expecting value: line 1 column 1"):
#: never repeated to the reader.  Every other refusal's message is written by this service
#: (credentials/errors.py: "safe to show to anyone") and is shown as "what we could tell".
PARSER_WORDS_CODES = frozenset({"NOT_JSON", "UNSUPPORTED_FORMAT", "NOT_UTF8"})

#: A PNG or SVG image that carries no readable credential (a plain picture, a broken badge).
IMAGE_WITHOUT_CREDENTIAL = "an image with no credential inside"

#: What a foreign submission holds (credentials/foreign_formats.py), in the reader's language.
FOREIGN_FORMATS: dict[str, Any] = {
    IMAGE_WITHOUT_CREDENTIAL: _l("an image with no readable credential inside"),
    foreign_formats.JWT_CREDENTIAL: _l("a JWT-secured credential (VC-JWT)"),
    foreign_formats.SD_JWT_CREDENTIAL: _l("an SD-JWT credential (selective disclosure)"),
    foreign_formats.JWT_PRESENTATION: _l("a JWT-secured presentation"),
    foreign_formats.JWT: _l("a JSON Web Token that is not a credential"),
    foreign_formats.JWE: _l("an encrypted JSON Web Token (JWE)"),
    "a PDF document": _l("a PDF document"),
    "a ZIP archive": _l("a ZIP archive"),
    "a gzip-compressed file": _l("a gzip-compressed file"),
    "a JPEG image (only PNG and SVG images can carry a baked credential)": _l(
        "a JPEG image (only PNG and SVG images can carry a baked credential)"
    ),
    "a GIF image (only PNG and SVG images can carry a baked credential)": _l(
        "a GIF image (only PNG and SVG images can carry a baked credential)"
    ),
    "a WebP image (only PNG and SVG images can carry a baked credential)": _l(
        "a WebP image (only PNG and SVG images can carry a baked credential)"
    ),
}

#: Why a refusal that is not "not a credential" stopped the check, by error code.
_REFUSALS: dict[str, Any] = {
    "FORM_ERROR": _l("the form could not be read. Reload the page and submit again."),
    "CSRF_ERROR": _l("the form had expired. Reload the page and submit again."),
    "INVALID_CONTEXT": _l("the credential relies on a vocabulary this service does not accept."),
    "INVALID_JSON_LD": _l("the credential's data cannot be read as linked data."),
    "JSON_TOO_DEEP": _l("the credential is nested too deeply to be checked safely."),
    "INVALID_UNICODE": _l("the credential contains text that cannot be checked safely."),
    "INVALID_NUMBER": _l("the credential contains a number too large to be checked safely."),
    "INVALID_DATETIME": _l("one of the credential's dates is not a valid date."),
    "UNSUPPORTED_PROOF": _l("its signature is of a kind this service cannot check."),
    "TOO_MANY_PROOFS": _l("it carries more signatures than this service checks."),
    "CONTEXT_NOT_ALLOWED": _l(
        "the credential relies on a vocabulary this service does not accept."
    ),
    "SCHEMA_VALIDATION_ERROR": _l("the credential does not follow the Open Badges format."),
    "DATA_LOSS_DETECTION_ERROR": _l(
        "some of the credential's information is not defined, so a signature could not cover it."
    ),
    "CANONICALIZATION_LIMIT_EXCEEDED": _l(
        "checking it would take more work than this service allows."
    ),
    "JSON_TOO_MANY_VALUES": _l("the credential is too large to be checked safely."),
    "JSON_TOO_MANY_ITEMS": _l("the credential is too large to be checked safely."),
    "JSON_STRING_TOO_LONG": _l("the credential is too large to be checked safely."),
}


@dataclass(frozen=True)
class Verdict:
    """``kind`` (stable, for tests and classes), ``tone`` (ok/bad/warn/unknown: the banner's
    colour), ``headline`` (a word or two: the h2) and ``sentence`` (the reason, in full)."""

    kind: str
    tone: str
    headline: str
    sentence: str
    #: What we could tell, in the refusal's own (English, technical) words when they are ours.
    detail: str = ""

    @property
    def failed(self) -> bool:
        """Whatever the credential claims must be read as unverified claims."""
        return self.kind not in ("verified", "issuer-not-confirmed")


@dataclass(frozen=True)
class CredentialState:
    """What this service's own records say of a credential it issued (all optional): dates
    already formatted for the reader, reasons as the issuer gave them."""

    revoked_on: str | None = None
    revocation_reason: str | None = None
    suspended_on: str | None = None
    suspension_reason: str | None = None
    expired_on: str | None = None
    valid_from: str | None = None


def _sentence_end(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?", "…")) else text + "."


def not_a_credential(what: str | None = None) -> Verdict:
    """A submission that is not a credential, saying what it holds when we could tell."""
    if what:
        shown = str(FOREIGN_FORMATS.get(what, what))
        sentence = _(
            "This file is not a credential this service can check: it holds %(what)s. "
            "Credfolio checks Open Badges 3.0 credentials with an embedded signature "
            "(a JSON file, or a PNG or SVG badge with the credential inside).",
            what=shown,
        )
    else:
        sentence = _(
            "This file is not a credential: it is not an Open Badges credential in JSON, nor "
            "a PNG or SVG badge with a credential inside."
        )
    return Verdict("not-a-credential", BAD, _("Not a credential"), sentence)


def _revoked(state: CredentialState) -> Verdict:
    reason = _sentence_end(state.revocation_reason or "")
    if state.revoked_on and reason:
        sentence = _(
            "Revoked by the issuer on %(date)s: %(reason)s", date=state.revoked_on, reason=reason
        )
    elif state.revoked_on:
        sentence = _("Revoked by the issuer on %(date)s.", date=state.revoked_on)
    else:
        sentence = _("Revoked by the issuer: the credential is no longer valid.")
    return Verdict("revoked", BAD, _("Revoked"), sentence)


def _suspended(state: CredentialState) -> Verdict:
    reason = _sentence_end(state.suspension_reason or "")
    if state.suspended_on and reason:
        sentence = _(
            "Suspended by the issuer on %(date)s: %(reason)s",
            date=state.suspended_on,
            reason=reason,
        )
    elif state.suspended_on:
        sentence = _("Suspended by the issuer on %(date)s.", date=state.suspended_on)
    else:
        sentence = _("Suspended by the issuer: do not rely on it until it is reinstated.")
    return Verdict("suspended", WARN, _("Suspended"), sentence)


def _expired(state: CredentialState) -> Verdict:
    if state.expired_on:
        sentence = _("Expired on %(date)s.", date=state.expired_on)
    else:
        sentence = _("Expired: its validity period has ended.")
    return Verdict("expired", WARN, _("Expired"), sentence)


def _not_yet_valid(state: CredentialState) -> Verdict:
    if state.valid_from:
        sentence = _("Not valid yet: it becomes valid on %(date)s.", date=state.valid_from)
    else:
        sentence = _("Not valid yet: its start date is in the future.")
    return Verdict("not-yet-valid", WARN, _("Not valid yet"), sentence)


def _could_not_check(reason: str) -> Verdict:
    return Verdict(
        "could-not-check",
        UNKNOWN,
        _("Could not check"),
        _("Could not check: %(reason)s", reason=reason),
    )


def _check_is(statuses: Mapping[str, str], name: str, status: str) -> bool:
    return statuses.get(name) == status


def verdict_sentence(
    statuses: Sequence[tuple[str, str]],
    *,
    verdict: str | None,
    error_code: str | None = None,
    foreign_format: str | None = None,
    state: CredentialState | None = None,
    check_titles: Mapping[str, str] | None = None,
) -> Verdict:
    """The verdict of a verification.

    ``statuses``: the checks that ran, as (name, status) pairs; ``verdict`` the verifier's
    (``verified``, ``genuine-issuer-not-confirmed``, ``not-verified``; ``None`` when nothing
    could be checked); ``error_code`` a refusal's code; ``foreign_format`` what a
    non-credential submission holds (credentials/foreign_formats.py); ``state`` what this
    service's records say (revoked or suspended here wins over a status list not yet read);
    ``check_titles`` the checks' names in words, for "Could not check: …".
    """
    state = state or CredentialState()
    titles = check_titles or {}
    checks = dict(statuses)
    if error_code is not None:
        if error_code in NOT_A_CREDENTIAL_CODES or foreign_format:
            return not_a_credential(foreign_format)
        reason = _REFUSALS.get(error_code)
        return _could_not_check(
            str(reason) if reason else _("the credential could not be read as a whole.")
        )
    proofs = [status for name, status in statuses if name == "proof" or name.startswith("proof[")]
    if "failed" in proofs:
        return Verdict(
            "altered",
            BAD,
            _("Altered"),
            _("Altered after signing: the signature does not match."),
        )
    if state.revoked_on or _check_is(checks, "revocation", "failed"):
        return _revoked(state)
    if state.suspended_on or _check_is(checks, "suspension", "failed"):
        return _suspended(state)
    if _check_is(checks, "issuer", "failed") or _check_is(checks, "key-status", "failed"):
        return Verdict(
            "wrong-signer",
            BAD,
            _("Not verified"),
            _(
                "Not verified: the key that signed it does not belong to the issuer it names, "
                "or the issuer has withdrawn that key."
            ),
        )
    if _check_is(checks, "valid-until", "failed") or (state.expired_on and verdict != "verified"):
        return _expired(state)
    if _check_is(checks, "valid-from", "failed"):
        return _not_yet_valid(state)
    unknown = [name for name, status in statuses if status == "unknown" and name != "issuer-trust"]
    if unknown:
        names = ", ".join(titles.get(name, name) for name in unknown)
        return _could_not_check(_("%(checks)s could not be completed.", checks=names))
    failed = [name for name, status in statuses if status == "failed"]
    if failed or verdict in (None, "not-verified"):
        names = ", ".join(titles.get(name, name) for name in failed)
        sentence = (
            _("Not verified: this check failed: %(checks)s.", checks=names)
            if names
            else _("Not verified: the credential could not be checked.")
        )
        return Verdict("not-verified", BAD, _("Not verified"), sentence)
    if verdict == "genuine-issuer-not-confirmed":
        return Verdict(
            "issuer-not-confirmed",
            WARN,
            _("Genuine signature, issuer not confirmed"),
            _(
                "Genuine signature, issuer not confirmed: the credential is intact and in force, "
                "but no source this service trusts confirms who issued it."
            ),
        )
    return Verdict(
        "verified",
        OK,
        _("Verified"),
        _("Verified: genuine, unchanged since it was signed, in force, and its issuer confirmed."),
    )
