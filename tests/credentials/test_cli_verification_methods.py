"""``credfolio verify`` with verification methods as OB 3.0 allows them: an HTTPS method whose
controller document is given on the command line (``--controller-document``, or the older name
``--did-document``), a bare did:key, and malformed methods (exit 1: a failed proof, not
"could not check").  Fixtures in tests/assets/proofs/."""

from __future__ import annotations

import pytest

from tests.conftest import ASSETS

PROOFS = ASSETS / "proofs"
HTTPS_CREDENTIAL = str(PROOFS / "https-verification-method.json")
CONTROLLER_DOCUMENT = str(PROOFS / "https-controller-document.json")


@pytest.mark.parametrize("option", ["--controller-document", "--did-document"])
def test_an_https_method_verifies_with_its_controller_document_given(runner, option):
    result = runner.invoke(args=["verify", HTTPS_CREDENTIAL, option, CONTROLLER_DOCUMENT])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("VERIFIED")


def test_without_its_controller_document_an_https_method_cannot_be_checked(runner):
    result = runner.invoke(args=["verify", HTTPS_CREDENTIAL])
    assert result.exit_code == 1, result.output
    assert "controller document https://issuer.example/issuers/1" in result.output
    assert "not a DID URL" not in result.output


def test_a_bare_did_key_method_verifies(runner):
    result = runner.invoke(args=["verify", str(PROOFS / "bare-did-key-verification-method.json")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "fixture",
    ["verification-method-without-scheme.json", "verification-method-unknown-scheme.json"],
)
def test_a_malformed_method_fails_the_proof(runner, fixture):
    result = runner.invoke(args=["verify", "--json", str(PROOFS / fixture)])
    assert result.exit_code == 1, result.output
    assert '"status": "failed"' in result.output
    assert "malformed proof" in result.output
