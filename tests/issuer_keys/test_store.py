"""KeyRecord and FileKeyStore: encryption at rest, rotation, revocation, concurrency."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import stat
from pathlib import Path

import pytest

from issuer_keys.did import did_web_document, is_authorized
from issuer_keys.encryption import KeyEncryptionSecret
from issuer_keys.errors import InvalidDidError, IssuerKeyError, KeyEncryptionError, KeyNotFoundError
from issuer_keys.store import FileKeyStore, KeyRecord

from ._rotate_worker import rotate_many

DID = "did:web:example.org"


@pytest.fixture
def secret() -> KeyEncryptionSecret:
    return KeyEncryptionSecret.generate()


@pytest.fixture
def store(tmp_path: Path, secret: KeyEncryptionSecret) -> FileKeyStore:
    return FileKeyStore(tmp_path / "keys", secret=secret)


def test_create_writes_private_encrypted_file(store: FileKeyStore, tmp_path: Path) -> None:
    record = store.create(DID)
    path = tmp_path / "keys" / f"{record.key_id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert stored["status"] == "active" and stored["controller"] == DID
    assert set(stored["encrypted_secret"]) == {"v", "alg", "salt", "nonce", "ct"}
    seed = store.signing_key(DID).export_secret_seed()
    assert seed.hex() not in path.read_text()
    assert store.signing_key(DID).export_secret_multibase() not in path.read_text()
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [".lock", path.name]


def test_create_refuses_second_active_key(store: FileKeyStore) -> None:
    store.create(DID)
    with pytest.raises(IssuerKeyError, match="rotate") as info:
        store.create(DID)
    assert info.value.code == "ACTIVE_KEY_EXISTS"
    store.create("did:web:other.example")  # other controllers are independent


def test_create_refuses_non_did(store: FileKeyStore) -> None:
    with pytest.raises(InvalidDidError):
        store.create("example.org")


def test_signing_key_decrypts_once_and_signs(
    tmp_path: Path, store: FileKeyStore, secret: KeyEncryptionSecret
) -> None:
    record = store.create(DID)
    fresh = FileKeyStore(tmp_path / "keys", secret=secret)
    key = fresh.signing_key(DID)
    assert key.public_key_multibase == record.public_key_multibase
    assert key.key_id == record.key_id
    assert fresh.signing_key(DID) is key  # cached: not decrypted per call
    assert key.public_key.verify(key.sign(b"x"), b"x")


def test_wrong_secret_refused(tmp_path: Path, store: FileKeyStore) -> None:
    store.create(DID)
    other = FileKeyStore(tmp_path / "keys", secret=KeyEncryptionSecret.generate())
    assert other.active(DID).status == "active"  # public data still readable
    with pytest.raises(KeyEncryptionError, match="wrong key-encryption secret"):
        other.signing_key(DID)


def test_swapped_ciphertext_between_records_refused(
    tmp_path: Path, store: FileKeyStore, secret: KeyEncryptionSecret
) -> None:
    a = store.create(DID)
    b = store.create("did:web:other.example")
    dir_ = tmp_path / "keys"
    data_a = json.loads((dir_ / f"{a.key_id}.json").read_text())
    data_b = json.loads((dir_ / f"{b.key_id}.json").read_text())
    data_a["encrypted_secret"] = data_b["encrypted_secret"]
    data_a["public_key_multibase"] = data_b["public_key_multibase"]
    (dir_ / f"{a.key_id}.json").write_text(json.dumps(data_a))
    with pytest.raises(KeyEncryptionError, match="damaged record"):
        FileKeyStore(dir_, secret=secret).signing_key(DID)


def test_edited_public_key_detected(
    tmp_path: Path, store: FileKeyStore, secret: KeyEncryptionSecret
) -> None:
    a = store.create(DID)
    path = tmp_path / "keys" / f"{a.key_id}.json"
    data = json.loads(path.read_text())
    data["public_key_multibase"] = store.create("did:web:x.example").public_key_multibase
    path.write_text(json.dumps(data))
    with pytest.raises(KeyEncryptionError, match="does not match"):
        FileKeyStore(tmp_path / "keys", secret=secret).signing_key(DID)


def test_rotate_and_revoke_reflected_in_did_document(store: FileKeyStore) -> None:
    first = store.create(DID)
    second = store.rotate(DID)
    third = store.rotate(DID)
    records = store.list(DID)
    assert [r.key_id for r in records] == [first.key_id, second.key_id, third.key_id]
    assert [r.status for r in records] == ["retired", "retired", "active"]
    assert all(r.retired_at is not None for r in records[:2])
    assert store.active(DID).key_id == third.key_id
    assert store.signing_key(DID).public_key_multibase == third.public_key_multibase

    doc = did_web_document(DID, store.list(DID))
    assert doc["assertionMethod"] == [
        third.verification_method,
        first.verification_method,
        second.verification_method,
    ]
    assert doc["authentication"] == [third.verification_method]
    assert is_authorized(doc, first.verification_method)  # old credentials still verify

    revoked = store.revoke(second.key_id, "laptop\nstolen")
    assert revoked.status == "revoked" and revoked.revocation_reason == "laptop stolen"
    assert revoked.revoked_at is not None
    assert store.get(second.key_id).status == "revoked"
    doc = did_web_document(DID, store.list(DID))
    assert second.verification_method not in json.dumps(doc)
    assert doc["assertionMethod"] == [third.verification_method, first.verification_method]
    assert not is_authorized(doc, second.verification_method)
    assert store.find_by_verification_method(second.verification_method) == revoked


def test_revoking_active_key_stops_signing_until_rotate(store: FileKeyStore) -> None:
    first = store.create(DID)
    store.signing_key(DID)
    store.revoke(first.key_id, "compromised")
    with pytest.raises(KeyNotFoundError):
        store.signing_key(DID)
    new = store.rotate(DID)
    assert store.signing_key(DID).key_id == new.key_id
    assert store.get(first.key_id).status == "revoked"  # rotate does not un-revoke
    with pytest.raises(ValueError, match="reason"):
        store.revoke(new.key_id, "  ")


def test_get_and_find(store: FileKeyStore) -> None:
    record = store.create(DID)
    assert store.get(record.key_id) == record
    assert store.find_by_verification_method(record.verification_method) == record
    assert (
        store.find_by_verification_method(f"did:web:other.example#{record.public_key_multibase}")
        is None
    )
    assert store.find_by_verification_method(DID) is None
    for bad in ("../../etc/passwd", "nope", record.key_id.upper(), ""):
        with pytest.raises(KeyNotFoundError):
            store.get(bad)
    with pytest.raises(KeyNotFoundError):
        store.active("did:web:nobody.example")


def test_damaged_record_reported(tmp_path: Path, store: FileKeyStore) -> None:
    record = store.create(DID)
    (tmp_path / "keys" / f"{record.key_id}.json").write_text("{not json")
    with pytest.raises(IssuerKeyError) as info:
        store.list()
    assert info.value.code == "KEY_RECORD_DAMAGED"


def test_reprs_contain_no_secret(store: FileKeyStore, secret: KeyEncryptionSecret) -> None:
    record = store.create(DID)
    key = store.signing_key(DID)
    enc = record.encrypted_secret.to_dict()
    texts = [repr(record), str(record), repr(store), repr(key), repr(record.encrypted_secret)]
    for text in texts:
        assert key.export_secret_multibase() not in text
        assert key.export_secret_seed().hex() not in text
        assert enc["ct"] not in text and enc["salt"] not in text
        assert secret.to_text() not in text
    assert record.key_id in repr(record)
    assert "encrypted_secret" not in json.dumps(record.to_public_dict())


def test_rotate_in_two_processes_leaves_one_active(
    tmp_path: Path, store: FileKeyStore, secret: KeyEncryptionSecret
) -> None:
    n = 20
    store.create(DID)
    ctx = multiprocessing.get_context("spawn")  # real, fresh processes, as under gunicorn
    start = ctx.Barrier(2)
    args = (str(tmp_path / "keys"), secret.to_text(), DID, n, start)
    procs = [ctx.Process(target=rotate_many, args=args) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(20)
    assert [p.exitcode for p in procs] == [0, 0]
    records = store.list(DID)
    assert len(records) == 1 + 2 * n
    assert [r.status for r in records].count("active") == 1
    # Never two active at once, anywhere in the history: each key was retired before its
    # successor was created.  (Without the lock, overlapping rotations break this.)
    for older, newer in itertools.pairwise(records):
        assert older.retired_at is not None and older.retired_at <= newer.created
    assert store.active(DID) == records[-1]
    assert store.signing_key(DID).public_key_multibase == records[-1].public_key_multibase
    assert len(did_web_document(DID, records)["assertionMethod"]) == 1 + 2 * n


def test_record_round_trips_through_stored_form(store: FileKeyStore) -> None:
    record = store.create(DID)
    again = KeyRecord.from_stored_dict(record.to_stored_dict())
    assert again == record
    assert again.encrypted_secret == record.encrypted_secret
