"""Status lists are judged by Bitstring Status List v1.0 §3.2 (Validate Algorithm) exactly as
written (issue 14 §7): a list is used when it is dereferenced and its proofs verify (step 4),
its purpose matches (step 5) and its bitstring expands to at least 131,072 entries holding the
index (steps 8-10) — nothing more is asked of it.  A list given on the command line stands for
the URL the entry names (``--status-list URL=FILE``).

The lists are in tests/assets/status/conformant/ (generate.py there): each is accepted by the
algorithm and was refused here before."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from credentials.verify import FAILED, PASSED, UNKNOWN, Verifier
from tests.conftest import ASSETS, load_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)
LIST_URL = "https://example.edu/status/1"
SUSPENSION_URL = "https://example.edu/status/2"
CONFORMANT = [
    "list-without-id.json",
    "list-id-differs-from-url.json",
    "list-valid-until-passed.json",
    "list-signed-by-another-issuer.json",
]


def verifier_with(list_file: str) -> Verifier:
    lists = {
        LIST_URL: load_json(f"status/conformant/{list_file}"),
        SUSPENSION_URL: load_json("tampered/status-list-suspension.json"),
    }
    return Verifier.offline(now=lambda: NOW, status_lists=lists)


@pytest.mark.parametrize("list_file", CONFORMANT)
def test_a_list_the_algorithm_accepts_gives_the_status_of_its_bit(list_file):
    verifier = verifier_with(list_file)
    kept = verifier.verify(load_json("tampered/not-revoked.json"))
    assert kept.check("revocation").status == PASSED, kept.check("revocation").detail
    assert kept.verified
    revoked = verifier.verify(load_json("tampered/revoked.json"))
    assert revoked.check("revocation").status == FAILED
    assert not revoked.verified


def test_what_the_algorithm_does_not_ask_is_still_said():
    expired = verifier_with("list-valid-until-passed.json").verify(
        load_json("tampered/not-revoked.json")
    )
    assert "valid-until" in expired.check("revocation").detail
    signer = load_json("status/conformant/list-signed-by-another-issuer.json")["issuer"]
    foreign = verifier_with("list-signed-by-another-issuer.json").verify(
        load_json("tampered/not-revoked.json")
    )
    assert f"signed by {signer}" in foreign.check("revocation").detail


def test_a_list_whose_proof_fails_is_still_not_trusted():
    # §3.2 step 4: STATUS_VERIFICATION_ERROR when a proof of the list does not verify.
    document = load_json("status/conformant/list-id-differs-from-url.json")
    document["credentialSubject"]["encodedList"] = load_json(
        "tampered/status-list-suspension.json"
    )["credentialSubject"]["encodedList"]
    verifier = Verifier.offline(now=lambda: NOW, status_lists={LIST_URL: document})
    result = verifier.verify(load_json("tampered/revoked.json"))
    assert result.check("revocation").status == UNKNOWN
    assert "does not verify" in result.check("revocation").detail


def test_a_list_that_is_not_a_status_list_credential_is_not_used():
    # §2.1: the dereferenced credential MUST have the type BitstringStatusListCredential.
    verifier = Verifier.offline(
        now=lambda: NOW, status_lists={LIST_URL: load_json("tampered/valid.json")}
    )
    result = verifier.verify(load_json("tampered/revoked.json"))
    assert result.check("revocation").status == UNKNOWN


# -- the command line: a list given for a URL -------------------------------------------------


def test_a_list_given_for_a_url_on_the_command_line_stands_for_it(runner, tmp_path):
    credential = ASSETS / "tampered" / "revoked.json"
    listed = ASSETS / "status" / "conformant" / "list-id-differs-from-url.json"
    suspension = ASSETS / "tampered" / "status-list-suspension.json"
    result = runner.invoke(
        args=[
            "verify",
            "--json",
            "--now",
            "2025-06-01T00:00:00Z",
            "--status-list",
            f"{LIST_URL}={listed}",
            "--status-list",
            str(suspension),
            str(credential),
        ]
    )
    assert result.exit_code == 1, result.output
    checks = {c["name"]: c["status"] for c in json.loads(result.output)["checks"]}
    assert checks["revocation"] == FAILED
    assert checks["suspension"] == PASSED


def test_a_list_without_an_id_on_the_command_line_says_how_to_name_its_url(runner, tmp_path):
    listed = ASSETS / "status" / "conformant" / "list-without-id.json"
    result = runner.invoke(
        args=["verify", "--status-list", str(listed), str(ASSETS / "tampered" / "revoked.json")]
    )
    assert result.exit_code != 0
    assert "URL=FILE" in result.output
