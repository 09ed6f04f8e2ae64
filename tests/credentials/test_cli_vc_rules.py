"""``credfolio sign`` refuses what the issuing service refuses: a credential breaking a VC Data
Model 2.0 rule (exit 2, the rule's code), or one whose RDF conversion would lose something."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ASSETS

RULES = ASSETS / "vc-rules"


@pytest.fixture
def keyed_runner(runner):
    assert runner.invoke(args=["keys", "create"]).exit_code == 0
    return runner


def without_proof(name: str, tmp_path: Path) -> Path:
    document = json.loads((RULES / name).read_text(encoding="utf-8"))
    document.pop("proof", None)
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("id-not-a-url.signed.json", "INVALID_ID"),
        ("evidence-without-type.json", "MISSING_TYPE"),
        ("related-resource-wrong-digest.json", "DIGEST_MISMATCH"),
        ("language-tag-malformed.json", "DATA_LOSS_DETECTION_ERROR"),
        ("type-map-pyld-cannot-process.json", "INVALID_JSON_LD"),
    ],
)
def test_sign_refuses_a_credential_the_service_would_refuse(keyed_runner, tmp_path, name, code):
    out = tmp_path / "signed.json"
    path = without_proof(name, tmp_path)
    result = keyed_runner.invoke(args=["sign", str(path), "--set-issuer", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"Error ({code})" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
