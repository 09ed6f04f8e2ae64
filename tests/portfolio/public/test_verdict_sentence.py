"""The verdict in one headline and one sentence (portfolio/public/verdict_sentence.py): pure,
every verdict, outside a request (gettext leaves the English as written)."""

from __future__ import annotations

import pytest

from credentials import foreign_formats
from portfolio.public.verdict_sentence import (
    IMAGE_WITHOUT_CREDENTIAL,
    CredentialState,
    not_a_credential,
    verdict_sentence,
)

GOOD = [
    ("contexts", "passed"),
    ("terms", "passed"),
    ("vc-data-model", "passed"),
    ("schema", "passed"),
    ("subject", "passed"),
    ("proof", "passed"),
    ("issuer", "passed"),
    ("key-status", "passed"),
    ("valid-from", "passed"),
    ("valid-until", "not-applicable"),
    ("revocation", "passed"),
    ("suspension", "passed"),
    ("endorsements", "not-applicable"),
    ("issuer-trust", "passed"),
]
PARSER_WORDS = ("Expecting value", "JSONDecodeError", "line 1 column", "Traceback", "char 0")


def _with(name: str, status: str) -> list[tuple[str, str]]:
    return [(n, status if n == name else s) for n, s in GOOD]


def test_verified() -> None:
    verdict = verdict_sentence(GOOD, verdict="verified")
    assert (verdict.kind, verdict.tone, verdict.headline) == ("verified", "ok", "Verified")
    assert verdict.sentence.startswith("Verified: genuine")
    assert not verdict.failed


def test_genuine_signature_issuer_not_confirmed() -> None:
    verdict = verdict_sentence(
        _with("issuer-trust", "unknown"), verdict="genuine-issuer-not-confirmed"
    )
    assert verdict.kind == "issuer-not-confirmed"
    assert verdict.tone == "warn"
    assert verdict.headline == "Genuine signature, issuer not confirmed"
    assert verdict.sentence.startswith("Genuine signature, issuer not confirmed:")
    assert not verdict.failed


def test_revoked_with_date_and_reason() -> None:
    state = CredentialState(revoked_on="3 March 2026", revocation_reason="Awarded in error")
    verdict = verdict_sentence(_with("revocation", "failed"), verdict="not-verified", state=state)
    assert (verdict.kind, verdict.tone, verdict.headline) == ("revoked", "bad", "Revoked")
    assert verdict.sentence == "Revoked by the issuer on 3 March 2026: Awarded in error."
    assert verdict.failed


def test_revoked_known_only_from_the_status_list() -> None:
    verdict = verdict_sentence(_with("revocation", "failed"), verdict="not-verified")
    assert verdict.headline == "Revoked"
    assert verdict.sentence == "Revoked by the issuer: the credential is no longer valid."


def test_revoked_in_our_records_wins_over_a_status_list_not_yet_read() -> None:
    state = CredentialState(revoked_on="3 March 2026")
    verdict = verdict_sentence(GOOD, verdict="verified", state=state)
    assert verdict.kind == "revoked"
    assert verdict.sentence == "Revoked by the issuer on 3 March 2026."


def test_altered_after_signing() -> None:
    verdict = verdict_sentence(_with("proof", "failed"), verdict="not-verified")
    assert (verdict.kind, verdict.headline) == ("altered", "Altered")
    assert verdict.sentence == "Altered after signing: the signature does not match."


def test_altered_wins_over_revoked_a_tampered_copy_says_so() -> None:
    statuses = [*_with("proof[1]", "failed"), ("proof[1]", "failed")]
    statuses = [(n, "failed" if n == "revocation" else s) for n, s in statuses]
    assert verdict_sentence(statuses, verdict="not-verified").kind == "altered"


def test_suspended() -> None:
    verdict = verdict_sentence(_with("suspension", "failed"), verdict="not-verified")
    assert (verdict.kind, verdict.tone, verdict.headline) == ("suspended", "warn", "Suspended")
    assert verdict.sentence.startswith("Suspended by the issuer")
    state = CredentialState(suspended_on="1 May 2026", suspension_reason="Under review")
    dated = verdict_sentence(GOOD, verdict="verified", state=state)
    assert dated.sentence == "Suspended by the issuer on 1 May 2026: Under review."


def test_expired() -> None:
    state = CredentialState(expired_on="31 December 2025")
    verdict = verdict_sentence(_with("valid-until", "failed"), verdict="not-verified", state=state)
    assert (verdict.kind, verdict.headline) == ("expired", "Expired")
    assert verdict.sentence == "Expired on 31 December 2025."
    undated = verdict_sentence(_with("valid-until", "failed"), verdict="not-verified")
    assert undated.sentence.startswith("Expired")


def test_not_valid_yet() -> None:
    verdict = verdict_sentence(_with("valid-from", "failed"), verdict="not-verified")
    assert verdict.kind == "not-yet-valid"
    assert verdict.failed


def test_could_not_check_names_what_could_not_be_completed() -> None:
    verdict = verdict_sentence(
        _with("revocation", "unknown"),
        verdict="not-verified",
        check_titles={"revocation": "Revocation"},
    )
    assert (verdict.kind, verdict.tone, verdict.headline) == (
        "could-not-check",
        "unknown",
        "Could not check",
    )
    assert verdict.sentence == "Could not check: Revocation could not be completed."


def test_a_refusal_that_is_not_about_the_file_is_could_not_check() -> None:
    verdict = verdict_sentence([], verdict=None, error_code="CSRF_ERROR")
    assert verdict.kind == "could-not-check"
    assert verdict.sentence.startswith("Could not check: the form had expired")


def test_wrong_signer() -> None:
    verdict = verdict_sentence(_with("issuer", "failed"), verdict="not-verified")
    assert verdict.kind == "wrong-signer"
    assert verdict.headline == "Not verified"


@pytest.mark.parametrize(
    "code",
    ["EMPTY", "NOT_JSON", "NOT_AN_OBJECT", "INVALID_TYPE", "MISSING_SUBJECT", "BAKING_ERROR"],
)
def test_not_a_credential(code: str) -> None:
    verdict = verdict_sentence([], verdict=None, error_code=code)
    assert (verdict.kind, verdict.tone, verdict.headline) == (
        "not-a-credential",
        "bad",
        "Not a credential",
    )
    assert verdict.sentence.startswith("This file is not a credential")
    assert not any(word in verdict.sentence for word in PARSER_WORDS)


@pytest.mark.parametrize(
    "what",
    [
        foreign_formats.JWT_CREDENTIAL,
        foreign_formats.SD_JWT_CREDENTIAL,
        foreign_formats.JWE,
        "a PDF document",
        IMAGE_WITHOUT_CREDENTIAL,
    ],
)
def test_not_a_credential_says_what_it_holds(what: str) -> None:
    verdict = verdict_sentence(
        [], verdict=None, error_code="UNSUPPORTED_FORMAT", foreign_format=what
    )
    assert verdict.kind == "not-a-credential"
    assert "it holds" in verdict.sentence
    if what != IMAGE_WITHOUT_CREDENTIAL:
        assert what in verdict.sentence
    assert not_a_credential(what) == verdict
