"""The ``schema`` check judges a credential exactly as the published 1EdTech schema does, and
reports that schema's own errors (issue 14 §1).  Strict validators — Python ``jsonschema`` and
``ajv`` with the 2019-09 draft — are run beside it on the same named fixtures."""

from __future__ import annotations

import copy

from credentials.verify import FAILED, PASSED, WARNING, Verifier
from tests.conftest import load_json
from tests.strict_validators import ajv_errors, jsonschema_errors

STATUS_LISTS = {
    "https://example.edu/status/1": load_json("tampered/status-list-revocation.json"),
    "https://example.edu/status/2": load_json("tampered/status-list-suspension.json"),
}
STATUS_ARRAY = "schema/credential-status-as-a-list.json"
HIDDEN_ERROR = "schema/credential-status-list-and-no-criteria.json"


def verify(name: str):
    return Verifier.offline(status_lists=STATUS_LISTS).verify(load_json(name))


def test_a_status_list_is_never_reported_as_a_match_with_the_schema():
    # What Credfolio issued by default before: revocation and suspension entries in a list.
    # Strict validators reject it; the check says so, with the validator's own error.
    check = verify(STATUS_ARRAY).check("schema")
    assert check.status == WARNING
    assert "as published" in check.detail
    assert "credentialStatus: an array is not of type 'object'" in check.detail
    assert "strict OB 3.0 validators report it as invalid" in check.detail


def test_jsonschema_and_ajv_reject_the_status_list_as_the_check_says():
    document = load_json(STATUS_ARRAY)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    assert [path for path, _ in jsonschema_errors(document, "achievementcredential")] == [
        "/credentialStatus"
    ]
    signed_errors, unsigned_errors = ajv_errors(
        [("achievementcredential", document), ("achievementcredential", unsigned)]
    )
    assert {"instancePath": "/credentialStatus", "message": "must be object"} in signed_errors
    assert {"instancePath": "/credentialStatus", "message": "must be object"} in unsigned_errors


def test_credentials_already_issued_with_two_status_entries_keep_verifying():
    # VC Data Model 2.0 §4.10 permits several entries; the signature, the revocation and the
    # suspension entries are all still checked.
    result = verify(STATUS_ARRAY)
    assert result.verified
    assert {result.check(name).status for name in ("revocation", "suspension")} == {PASSED}


def test_a_status_list_does_not_hide_other_schema_errors():
    # Judging each status entry on its own made only the list's problem disappear; here the
    # achievement has no criteria, which every view fails: the check fails with every error.
    result = verify(HIDDEN_ERROR)
    check = result.check("schema")
    assert check.status == FAILED
    assert "credentialSubject.achievement.criteria: 'criteria' is a required property" in (
        check.detail
    )
    assert "credentialStatus: an array is not of type 'object'" in check.detail
    assert not result.verified
    errors = jsonschema_errors(load_json(HIDDEN_ERROR), "achievementcredential")
    paths = {path for path, _ in errors}
    assert paths == {"/credentialStatus", "/credentialSubject/achievement"}


def test_one_status_object_matches_the_schema_as_published():
    result = verify("tampered/valid.json")
    assert result.check("schema").status == PASSED
    assert "as published" in result.check("schema").detail


def test_a_single_proof_object_of_the_compacted_form_is_permitted_but_not_a_match():
    # OB 3.0 Serialization allows a single proof object; the published schema wants an array.
    document = copy.deepcopy(load_json("tampered/valid.json"))
    document["proof"] = document["proof"][0]
    check = Verifier.offline().verify(document).check("schema")
    assert check.status == WARNING
    assert "proof: an object is not of type 'array'" in check.detail
    assert "compacted document form" in check.detail
