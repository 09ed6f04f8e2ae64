"""``credfolio sign|verify|bake|unbake``: what a person at a terminal sees, and the exit codes
(0 verified, 1 not verified, 2 malformed input)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ASSETS, TEST_KEK, load_json

EXAMPLE = ASSETS / "ob3" / "examples" / "basicOpenBadgeCredential.json"


@pytest.fixture
def keyed_runner(runner):
    assert runner.invoke(args=["keys", "create"]).exit_code == 0
    return runner


def unsigned(tmp_path: Path) -> Path:
    document = load_json("ob3/examples/basicOpenBadgeCredential.json")
    document.pop("proof", None)
    path = tmp_path / "unsigned.json"
    path.write_text(json.dumps(document))
    return path


def sign(runner, tmp_path: Path) -> Path:
    out = tmp_path / "signed.json"
    result = runner.invoke(
        args=["sign", str(unsigned(tmp_path)), "--set-issuer", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def test_sign_then_verify_lists_every_check_and_exits_0(keyed_runner, tmp_path):
    signed = sign(keyed_runner, tmp_path)
    document = json.loads(signed.read_text())
    assert document["issuer"]["id"] == "did:web:credfolio.test"
    assert isinstance(document["proof"], list)

    result = keyed_runner.invoke(args=["verify", str(signed)])
    assert result.exit_code == 0, result.output
    for name in ("contexts", "schema", "proof", "issuer", "key-status", "valid-from"):
        assert name in result.output
    assert result.output.rstrip().endswith("VERIFIED")


def test_verify_json_prints_the_api_object(keyed_runner, tmp_path):
    result = keyed_runner.invoke(args=["verify", "--json", str(sign(keyed_runner, tmp_path))])
    body = json.loads(result.output)
    assert result.exit_code == 0
    assert body["verified"] is True
    assert set(body) == {"verified", "checks", "warnings", "errors", "dataModel", "legacyProofs"}


def test_a_tampered_credential_exits_1_and_names_the_check(keyed_runner, tmp_path):
    signed = sign(keyed_runner, tmp_path)
    document = json.loads(signed.read_text())
    document["credentialSubject"]["achievement"]["name"] = "Grand Master"
    signed.write_text(json.dumps(document))
    result = keyed_runner.invoke(args=["verify", "--json", str(signed)])
    assert result.exit_code == 1
    checks = {c["name"]: c["status"] for c in json.loads(result.output)["checks"]}
    assert checks["proof"] == "failed"


def test_malformed_input_exits_2(keyed_runner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{ this is not json")
    result = keyed_runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 2
    assert "MALFORMED (NOT_JSON)" in result.output

    result = keyed_runner.invoke(args=["verify", "--json", str(path)])
    body = json.loads(result.output)
    assert result.exit_code == 2
    assert body["error"] == "NOT_JSON" and body["verified"] is False


def test_an_undefined_term_exits_2_naming_the_term(keyed_runner, tmp_path):
    document = json.loads(sign(keyed_runner, tmp_path).read_text())
    document["credentialSubject"]["nickname"] = "Ace"
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(document))
    result = keyed_runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 2
    assert "nickname" in result.output


def test_a_rotated_out_key_still_verifies_what_it_signed(keyed_runner, tmp_path):
    signed = sign(keyed_runner, tmp_path)
    assert keyed_runner.invoke(args=["keys", "rotate"]).exit_code == 0
    result = keyed_runner.invoke(args=["verify", "--json", str(signed)])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.output)["checks"]}
    assert "rotated out" in checks["key-status"]["detail"]


def test_sign_refuses_another_issuer_without_set_issuer(keyed_runner, tmp_path):
    result = keyed_runner.invoke(args=["sign", str(unsigned(tmp_path))])
    assert result.exit_code == 2
    assert "WRONG_ISSUER" in result.output


def test_sign_without_a_key_says_how_to_make_one(runner, tmp_path):
    result = runner.invoke(args=["sign", str(unsigned(tmp_path)), "--set-issuer"])
    assert result.exit_code != 0
    assert "key" in result.output.lower()


@pytest.mark.parametrize("image", ["badge.png", "badge.svg"])
def test_bake_then_verify_the_baked_image(keyed_runner, tmp_path, image):
    signed = sign(keyed_runner, tmp_path)
    baked = tmp_path / f"baked-{image}"
    result = keyed_runner.invoke(
        args=["bake", str(ASSETS / "images" / image), str(signed), "--out", str(baked)]
    )
    assert result.exit_code == 0, result.output
    assert keyed_runner.invoke(args=["verify", str(baked)]).exit_code == 0

    extracted = tmp_path / "extracted.json"
    result = keyed_runner.invoke(args=["unbake", str(baked), "--out", str(extracted)])
    assert result.exit_code == 0
    assert json.loads(extracted.read_text()) == json.loads(signed.read_text())


def test_unbake_of_a_hostile_svg_is_refused(keyed_runner):
    result = keyed_runner.invoke(args=["unbake", str(ASSETS / "hostile" / "billion-laughs.svg")])
    assert result.exit_code == 2
    assert "BAKING_ERROR" in result.output


def test_the_console_script_runs_without_flask_app(tmp_path):
    """`credfolio` is a Flask CLI group: no FLASK_APP needed."""
    script = Path(sys.executable).parent / "credfolio"
    env = {
        **os.environ,
        "CREDFOLIO_INSTANCE_PATH": str(tmp_path),
        "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        # Its own embedded database: this test must not migrate the shared PostgreSQL one.
        "CREDFOLIO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    env.pop("FLASK_APP", None)
    help_text = subprocess.run(
        [script, "--help"], capture_output=True, text=True, env=env, check=True, timeout=60
    ).stdout
    for command in ("run", "keys", "sign", "verify", "bake", "unbake"):
        assert command in help_text
    migrated = subprocess.run(
        [script, "init-db"], capture_output=True, text=True, env=env, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    created = subprocess.run(
        [script, "keys", "create"], capture_output=True, text=True, env=env, timeout=60
    )
    assert created.returncode == 0, created.stderr
    listed = subprocess.run(
        [script, "keys", "list", "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    keys = json.loads(listed.stdout)
    assert len(keys) == 1 and keys[0]["status"] == "active"
    assert "secret" not in listed.stdout.lower().replace("encrypted", "")


def test_verify_names_the_data_model_and_a_legacy_proof(keyed_runner):
    path = ASSETS / "legacy" / "vc11-ob302-eddsa-2022.json"
    result = keyed_runner.invoke(args=["verify", "--now", "2025-06-01T00:00:00Z", str(path)])
    assert result.exit_code == 0, result.output
    assert "data model: VC 1.1" in result.output
    assert "legacy proof: eddsa-2022" in result.output


def test_verify_of_a_hostile_svg_says_why_it_is_refused_not_json(keyed_runner):
    result = keyed_runner.invoke(args=["verify", str(ASSETS / "hostile" / "xxe-file.svg")])
    assert result.exit_code == 2
    assert "hostile SVG" in result.output and "NOT_JSON" not in result.output


def test_verify_of_a_badge_with_the_standard_svg_doctype_reads_its_credential(
    keyed_runner, tmp_path
):
    signed = sign(keyed_runner, tmp_path)
    baked = tmp_path / "baked.svg"
    image = ASSETS / "images" / "badge-svg11-doctype.svg"
    result = keyed_runner.invoke(args=["bake", str(image), str(signed), "--out", str(baked)])
    assert result.exit_code == 0, result.output
    assert keyed_runner.invoke(args=["verify", str(baked)]).exit_code == 0


def test_verify_of_a_vc_jwt_says_what_the_file_holds(keyed_runner, tmp_path):
    path = tmp_path / "credential.jwt"
    path.write_bytes((ASSETS / "foreign" / "vc-jwt-credential.jwt").read_bytes())
    result = keyed_runner.invoke(args=["verify", "--json", str(path)])
    assert result.exit_code == 2
    body = json.loads(result.output)
    assert body["error"] == "UNSUPPORTED_FORMAT"
    assert "a JWT-secured credential (VC-JWT)" in body["detail"]
