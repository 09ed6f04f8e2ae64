"""``keys`` CLI commands, run against a minimal Flask app (wsgi.py is not needed)."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from pathlib import Path

import flask
import pytest
from flask.testing import FlaskCliRunner

from issuer_keys.cli import keys
from issuer_keys.encryption import KeyEncryptionSecret
from issuer_keys.store import FileKeyStore

DID = "did:web:example.org"


@pytest.fixture
def store(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "keys", secret=KeyEncryptionSecret.generate())


@pytest.fixture
def runner(store: FileKeyStore) -> Iterator[FlaskCliRunner]:
    app = flask.Flask(__name__)
    app.extensions["credfolio"] = types.SimpleNamespace(key_store=store, issuer_did=DID)
    app.cli.add_command(keys)
    yield app.test_cli_runner()


def _secrets(store: FileKeyStore) -> list[str]:
    """Every secret-ish string the output must not contain."""
    out = []
    for record in store.list():
        enc = record.encrypted_secret.to_dict()
        out += [enc["ct"], enc["salt"], enc["nonce"]]
    key = store.signing_key(DID)
    return [*out, key.export_secret_multibase(), key.export_secret_seed().hex()]


def test_create_then_refuse_second(runner: FlaskCliRunner, store: FileKeyStore) -> None:
    result = runner.invoke(keys, ["create"])
    assert result.exit_code == 0, result.output
    record = store.active(DID)
    assert record.key_id in result.output
    assert record.verification_method in result.output

    again = runner.invoke(keys, ["create"])
    assert again.exit_code == 1
    assert "already has an active key" in again.output and "rotate" in again.output
    assert len(store.list(DID)) == 1
    for s in _secrets(store):
        assert s not in result.output + again.output


def test_rotate_then_list(runner: FlaskCliRunner, store: FileKeyStore) -> None:
    runner.invoke(keys, ["create"])
    first = store.active(DID)
    result = runner.invoke(keys, ["rotate"])
    assert result.exit_code == 0, result.output
    second = store.active(DID)
    assert f"Retired key {first.key_id}" in result.output
    assert f"New active key {second.key_id}" in result.output

    table = runner.invoke(keys, ["list"])
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["KEY", "ID", "STATUS", "CREATED", "VERIFICATION", "METHOD"]
    assert lines[1].split()[:2] == [first.key_id, "retired"]
    assert lines[2].split()[:2] == [second.key_id, "active"]
    assert lines[2].split()[3] == second.verification_method

    as_json = runner.invoke(keys, ["list", "--json"])
    assert as_json.exit_code == 0
    data = json.loads(as_json.output)
    assert [d["key_id"] for d in data] == [first.key_id, second.key_id]
    assert [d["status"] for d in data] == ["retired", "active"]
    assert data[1]["verification_method"] == second.verification_method
    assert all("encrypted_secret" not in d for d in data)
    for s in _secrets(store):
        assert s not in result.output + table.output + as_json.output


def test_list_empty_and_rotate_without_key(runner: FlaskCliRunner, store: FileKeyStore) -> None:
    assert "No keys" in runner.invoke(keys, ["list"]).output
    assert json.loads(runner.invoke(keys, ["list", "--json"]).output) == []
    result = runner.invoke(keys, ["rotate"])
    assert result.exit_code == 0
    assert "Retired" not in result.output
    assert store.active(DID).key_id in result.output


def test_store_errors_become_clean_messages(tmp_path: Path, store: FileKeyStore) -> None:
    (tmp_path / "keys" / "00000000-0000-4000-8000-000000000000.json").write_text("{broken")
    app = flask.Flask(__name__)
    app.extensions["credfolio"] = types.SimpleNamespace(key_store=store, issuer_did=DID)
    result = app.test_cli_runner().invoke(keys, ["list"])
    assert result.exit_code == 1
    assert "Error: damaged key record" in result.output
    assert "Traceback" not in result.output


def test_missing_extension_reported() -> None:
    result = flask.Flask(__name__).test_cli_runner().invoke(keys, ["list"])
    assert result.exit_code == 1
    assert "no 'credfolio' extension" in result.output
