"""Credentials from the VC 1.1 era verify: the 2018 credentials context, issuanceDate /
expirationDate, OB contexts 3.0.0–3.0.2, and Ed25519Signature2020 or eddsa-2022 proofs — each
labelled in the result ("VC 1.1", the legacy proof kind) and held to the VC 1.1 date rules.

Fixtures: tests/assets/legacy/ (README.md there; a real 1EdTech CLR 2.0 sample's
AchievementCredential, and credentials made by generate.py with the public demo key) and the
W3C Ed25519Signature2020 test vector in tests/assets/vectors/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.data_model import VC_1_1, VC_2_0, data_model_of, parse_xsd_datetime
from credentials.errors import UnsupportedProofError, VerificationFailure
from credentials.jsonld import DocumentLoader
from credentials.legacy_proofs import (
    Ed25519Signature2020Suite,
    Eddsa2022NameSuite,
    legacy_label,
    suite_for,
)
from credentials.proof import Eddsa2022Suite, proofs_of
from credentials.verify import (
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    ResolvedMethod,
    Verifier,
)
from issuer_keys.multikey import decode_public_key
from tests.conftest import load_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)
ED25519_2020 = "Ed25519Signature2020 (legacy proof type)"
EDDSA_2022 = "eddsa-2022 (legacy cryptosuite name of eddsa-rdfc-2022)"


def controller_documents(*documents: dict[str, Any]) -> Any:
    """Resolve verification methods from controller documents at hand, whatever their id's
    scheme (the CLR sample's issuer is a urn:uuid), else did:key offline."""
    by_id = {document["id"]: document for document in documents}
    fallback = Verifier.offline().resolve_key

    def resolve(verification_method: str) -> ResolvedMethod:
        controller_id = verification_method.split("#", 1)[0]
        document = by_id.get(controller_id)
        if document is None:
            return fallback(verification_method)
        method = next(m for m in document["verificationMethod"] if m["id"] == verification_method)
        if method["controller"] != controller_id:
            raise VerificationFailure("the method's controller is not the document's id")
        return ResolvedMethod(
            id=verification_method,
            controller=controller_id,
            public_key=decode_public_key(method["publicKeyMultibase"]),
            assertion_method=verification_method in document["assertionMethod"],
        )

    return resolve


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    clr_issuer = load_json("legacy/clr-sample-issuer-controller-document.json")
    return Verifier(
        loader=DocumentLoader.bundled(),
        resolve_key=controller_documents(clr_issuer),
        now=lambda: NOW,
    )


def statuses(result: Any) -> dict[str, str]:
    return {check.name: check.status for check in result.checks}


# --- real credentials of the VC 1.1 era ------------------------------------------------------


def test_the_1edtech_clr_samples_achievement_credential_verifies_and_says_vc_1_1(verifier):
    # From 1EdTech's published CLR 2.0 samples: VC 1.1, OB context 3.0.0, Ed25519Signature2020.
    result = verifier.verify(load_json("legacy/clr-sample-achievement-ed25519-2020.json"))
    assert result.verified, result.errors
    assert result.data_model == VC_1_1
    assert result.legacy_proofs == [ED25519_2020]
    assert statuses(result)["proof"] == PASSED
    assert statuses(result)["valid-from"] == PASSED
    assert result.to_dict()["dataModel"] == "VC 1.1"
    assert result.to_dict()["legacyProofs"] == [ED25519_2020]


def test_the_clr_sample_changed_after_signing_fails_its_proof(verifier):
    result = verifier.verify(
        load_json("legacy/clr-sample-achievement-name-changed-after-signing.json")
    )
    assert not result.verified
    assert statuses(result)["proof"] == FAILED
    assert "changed after signing" in result.check("proof").detail


def test_the_w3c_ed25519_signature_2020_vector_verifies_as_a_vc_2_0_credential():
    # A VC 2.0 document may carry the legacy proof type too: the data model is 2.0, the proof
    # is labelled.  (Its issuer is not the did:key that signed it, so only the proof is judged.)
    document = load_json("vectors/Ed25519Signature2020/signedEdSig.json")
    result = Verifier.offline(now=lambda: NOW).verify(document)
    assert result.data_model == VC_2_0
    assert result.legacy_proofs == [ED25519_2020]
    assert statuses(result)["proof"] == PASSED
    assert statuses(result)["issuer"] == FAILED


@pytest.mark.parametrize(
    ("fixture", "label"),
    [
        ("vc11-ob301-ed25519-2020.json", ED25519_2020),
        ("vc11-ob302-eddsa-2022.json", EDDSA_2022),
    ],
)
def test_vc_1_1_open_badges_with_a_legacy_proof_verify_offline(fixture, label):
    result = Verifier.offline(now=lambda: NOW).verify(load_json(f"legacy/{fixture}"))
    assert result.verified, result.errors
    assert result.data_model == VC_1_1
    assert result.legacy_proofs == [label]
    # The 1EdTech JSON Schema describes VC 2.0 credentials only.
    assert statuses(result)["schema"] == NOT_APPLICABLE


def test_a_current_credential_carries_no_legacy_label():
    result = Verifier.offline(now=lambda: NOW).verify(load_json("tampered/valid.json"))
    assert result.verified
    assert result.data_model == VC_2_0
    assert result.legacy_proofs == []


def test_an_eddsa_rdfc_2022_proof_keeps_the_current_suite_itself():
    current = Eddsa2022Suite(loader=DocumentLoader.bundled())
    proof = proofs_of(load_json("tampered/valid.json"))[0]
    assert suite_for(proof, current=current) is current
    assert legacy_label(proof) is None


def test_a_legacy_suite_shares_the_current_suites_loader_and_limits():
    current = Eddsa2022Suite(loader=DocumentLoader.bundled())
    legacy = suite_for({"type": "Ed25519Signature2020"}, current=current)
    assert isinstance(legacy, Ed25519Signature2020Suite)
    assert legacy.loader is current.loader and legacy.limits is current.limits
    eddsa = suite_for({"type": "DataIntegrityProof", "cryptosuite": "eddsa-2022"}, current=current)
    assert isinstance(eddsa, Eddsa2022NameSuite)


# --- non-conformant legacy proofs ------------------------------------------------------------


def test_an_eddsa_2022_proof_without_a_context_defining_it_is_a_failed_proof():
    result = Verifier.offline(now=lambda: NOW).verify(
        load_json("legacy/eddsa-2022-without-a-data-integrity-context.json")
    )
    assert statuses(result)["proof"] == FAILED
    assert "https://w3id.org/security/data-integrity/v1" in result.check("proof").detail


def test_an_ed25519_signature_2020_proof_with_a_cryptosuite_is_malformed():
    with pytest.raises(UnsupportedProofError, match="has no cryptosuite"):
        Verifier.offline(now=lambda: NOW).verify(
            load_json("legacy/ed25519-2020-proof-with-a-cryptosuite.json")
        )


def test_an_ed25519_signature_2020_proof_needs_the_suite_context():
    document = load_json("legacy/vc11-ob301-ed25519-2020.json")
    document["@context"] = document["@context"][:2]
    result = Verifier.offline(now=lambda: NOW).verify(document)
    assert statuses(result)["proof"] == FAILED
    assert "https://w3id.org/security/suites/ed25519-2020/v1" in result.check("proof").detail


# --- the VC 1.1 date rules (VC DM 1.1 §4.6, §4.7) ----------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "check", "reason"),
    [
        ("vc11-without-issuance-date.json", "valid-from", "must have an issuanceDate"),
        ("vc11-issued-in-the-future.json", "valid-from", "not valid yet"),
        ("vc11-expired.json", "valid-until", "expired on 2024-01-01"),
        ("vc11-valid-until-before-expiration-date.json", "valid-until", "expired on 2024-01-01"),
    ],
)
def test_vc_1_1_dates_fail_the_named_check(fixture, check, reason):
    result = Verifier.offline(now=lambda: NOW).verify(load_json(f"legacy/{fixture}"))
    assert not result.verified
    assert statuses(result)["proof"] == PASSED  # signed as it is: only the date rule fails
    assert statuses(result)[check] == FAILED
    assert reason in result.check(check).detail


def test_a_vc_1_1_issuance_date_without_a_time_zone_is_read_as_utc_and_said_so():
    # XML Schema dateTime (VC DM 1.1) makes the time zone optional; VC 2.0 requires it.
    result = Verifier.offline(now=lambda: NOW).verify(
        load_json("legacy/vc11-issuance-date-without-time-zone.json")
    )
    assert result.verified, result.errors
    assert any("names no time zone" in warning for warning in result.warnings)


def test_vc_1_1_dates_are_judged_against_now():
    document = load_json("legacy/vc11-ob302-eddsa-2022.json")  # issued 2023-03-01
    before = Verifier.offline(now=lambda: datetime(2023, 2, 28, tzinfo=UTC)).verify(document)
    assert statuses(before)["valid-from"] == FAILED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-03-01T10:00:00Z", (datetime(2023, 3, 1, 10, tzinfo=UTC), True)),
        ("2023-03-01T10:00:00", (datetime(2023, 3, 1, 10, tzinfo=UTC), False)),
        ("2023-03-01T12:00:00+02:00", (datetime(2023, 3, 1, 10, tzinfo=UTC), True)),
        ("2023-03-01T10:00:00.1234567Z", (datetime(2023, 3, 1, 10, 0, 0, 123456, UTC), True)),
        ("2023-03-01", None),
        ("2023-13-01T10:00:00Z", None),
        ("yesterday", None),
        (20230301, None),
    ],
)
def test_xsd_datetimes_are_read_as_xml_schema_defines_them(text, expected):
    assert parse_xsd_datetime(text) == expected


def test_the_data_model_is_named_by_the_first_context():
    assert data_model_of({"@context": ["https://www.w3.org/2018/credentials/v1"]}) == VC_1_1
    assert data_model_of({"@context": ["https://www.w3.org/ns/credentials/v2"]}) == VC_2_0


def test_the_controller_document_fixture_lists_the_samples_key():
    # The document the CLR test resolves with holds exactly the key the sample names.
    document = load_json("legacy/clr-sample-issuer-controller-document.json")
    vm = load_json("legacy/clr-sample-achievement-ed25519-2020.json")["proof"]["verificationMethod"]
    assert [m["id"] for m in document["verificationMethod"]] == [vm]
    assert document["verificationMethod"][0]["publicKeyMultibase"] == vm.split("#", 1)[1]


# --- credentials signed by other implementations -----------------------------------------------


def test_a_digital_bazaar_eddsa_2022_credential_verifies():
    # Made by the reference JavaScript stack under the draft cryptosuite name.
    result = Verifier.offline(now=lambda: NOW).verify(
        load_json("legacy/digitalbazaar-vc11-eddsa-2022.json")
    )
    assert result.verified, result.errors
    assert result.data_model == VC_1_1
    assert result.legacy_proofs == [EDDSA_2022]


def test_a_dcc_credential_with_both_proof_kinds_verifies_each_proof():
    result = Verifier.offline(now=lambda: NOW).verify(
        load_json("legacy/dcc-vc11-ob303-eddsa-rdfc-and-ed25519-2020.json")
    )
    assert result.verified, result.errors
    assert statuses(result)["proof"] == PASSED  # eddsa-rdfc-2022
    assert statuses(result)["proof[1]"] == PASSED  # Ed25519Signature2020
    assert result.legacy_proofs == [ED25519_2020]


def test_a_dcc_ed25519_signature_2020_credential_without_a_subject_id_fails_only_that():
    # The signature and the issuer's key are right; OB 3.0 verification step 1 is not met.
    result = Verifier.offline(now=lambda: NOW).verify(
        load_json("legacy/dcc-vc11-ob303-ed25519-2020.json")
    )
    failed = {name for name, status in statuses(result).items() if status == FAILED}
    assert failed == {"subject"}
    assert statuses(result)["proof"] == PASSED and statuses(result)["issuer"] == PASSED


# --- presentations of the VC 1.1 era ------------------------------------------------------------


def test_a_vc_1_1_presentation_signed_with_ed25519_signature_2020_verifies():
    from credentials.presentation import verify_presentation

    presentation = load_json("legacy/vc11-presentation-ed25519-2020.json")
    result = verify_presentation(
        presentation, verifier=Verifier.offline(now=lambda: NOW), challenge="legacy-wallet-1"
    )
    assert result.verified, result.to_dict()["errors"]
    assert result.credential_results[0]["legacyProofs"] == [ED25519_2020]
    assert result.credential_results[0]["dataModel"] == VC_1_1


def test_a_changed_vc_1_1_presentation_fails_its_holder_proof():
    from credentials.presentation import verify_presentation

    presentation = load_json("legacy/vc11-presentation-ed25519-2020.json")
    presentation["proof"]["challenge"] = "another-verifier"
    result = verify_presentation(presentation, verifier=Verifier.offline(now=lambda: NOW))
    assert not result.verified
    assert {c.name: c.status for c in result.checks}["presentation-proof"] == FAILED


# --- Status List 2021 (the status lists of the VC 1.1 era) ------------------------------------

STATUS_2021_URL = "https://example.edu/status-2021/1"


def status_2021_verifier(**lists: Any) -> Verifier:
    return Verifier.offline(now=lambda: NOW, status_lists=lists or None)


def with_list() -> Verifier:
    return status_2021_verifier(
        **{STATUS_2021_URL: load_json("legacy/status-list-2021-revocation.json")}
    )


def test_a_status_list_2021_entry_whose_bit_is_clear_passes_revocation():
    result = with_list().verify(load_json("legacy/vc11-status-list-2021-not-revoked.json"))
    assert result.verified, result.errors
    assert statuses(result)["revocation"] == PASSED
    assert "StatusList2021" in result.check("revocation").detail


def test_a_status_list_2021_entry_whose_bit_is_set_is_revoked():
    result = with_list().verify(load_json("legacy/vc11-status-list-2021-revoked.json"))
    assert not result.verified
    assert statuses(result)["revocation"] == FAILED
    assert "revoked" in result.check("revocation").detail


def test_a_status_list_2021_that_cannot_be_read_is_unknown_never_passed():
    result = Verifier.offline(now=lambda: NOW).verify(
        load_json("legacy/vc11-status-list-2021-not-revoked.json")
    )
    assert statuses(result)["revocation"] == "unknown"
    assert not result.verified


def test_a_status_list_2021_changed_after_signing_is_not_trusted():
    changed = load_json("legacy/status-list-2021-revocation.json")
    changed["credentialSubject"]["statusPurpose"] = "suspension"
    verifier = Verifier.offline(now=lambda: NOW, status_lists={STATUS_2021_URL: changed})
    result = verifier.verify(load_json("legacy/vc11-status-list-2021-revoked.json"))
    assert statuses(result)["revocation"] == "unknown"
    assert "does not verify" in result.check("revocation").detail


def test_many_entries_naming_one_status_list_2021_read_and_verify_it_once():
    reads: list[str] = []
    lists = {STATUS_2021_URL: load_json("legacy/status-list-2021-revocation.json")}

    def resolve(url: str) -> dict[str, Any]:
        reads.append(url)
        return lists[url]

    document = load_json("legacy/vc11-status-list-2021-not-revoked.json")
    document["credentialStatus"] = [document["credentialStatus"]] * 12  # unsigned: proof fails
    verifier = Verifier(
        loader=DocumentLoader.bundled(),
        resolve_key=Verifier.offline().resolve_key,
        resolve_status_list=resolve,
        now=lambda: NOW,
    )
    result = verifier.verify(document)
    assert reads == [STATUS_2021_URL]
    assert statuses(result)["revocation"] == PASSED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"statusListIndex": "-1"}, "statusListIndex"),
        ({"statusPurpose": "refresh"}, "statusPurpose"),
        # refused by data-loss detection first: not an IRI, JSON-LD to RDF would drop it
        ({"statusListCredential": "not a url"}, "'not a url' is not"),
    ],
)
def test_a_malformed_status_list_2021_entry_is_malformed_input(change, message):
    from credentials.errors import MalformedInputError

    document = load_json("legacy/vc11-status-list-2021-not-revoked.json")
    document["credentialStatus"] = {**document["credentialStatus"], **change}
    with pytest.raises(MalformedInputError, match=message):
        with_list().verify(document)
