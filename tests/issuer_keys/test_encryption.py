"""Encryption at rest and where the key-encryption secret comes from."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from issuer_keys.encryption import (
    DEV_SECRET_FILENAME,
    ENV_SECRET,
    ENV_SECRET_FILE,
    DevelopmentSecretWarning,
    EncryptedSecret,
    KeyEncryptionSecret,
    decrypt_secret,
    encrypt_secret,
    load_key_encryption_secret,
)
from issuer_keys.errors import KeyConfigurationError, KeyEncryptionError

RAW = bytes(range(32))
HEX = RAW.hex()
B64 = base64.urlsafe_b64encode(RAW).rstrip(b"=").decode()
SEED = b"\x42" * 32


@pytest.fixture
def secret() -> KeyEncryptionSecret:
    return KeyEncryptionSecret.generate()


def test_round_trip_and_format(secret: KeyEncryptionSecret) -> None:
    enc = encrypt_secret(SEED, secret=secret, key_id="k1")
    stored = enc.to_dict()
    assert set(stored) == {"v", "alg", "salt", "nonce", "ct"}
    assert stored["v"] == 1 and stored["alg"] == "A256GCM-HKDF-SHA256"
    assert SEED.hex() not in repr(stored)
    assert decrypt_secret(stored, secret=secret, key_id="k1") == SEED
    assert decrypt_secret(EncryptedSecret.from_dict(stored), secret=secret, key_id="k1") == SEED
    # fresh salt and nonce every time
    assert encrypt_secret(SEED, secret=secret, key_id="k1").to_dict()["ct"] != stored["ct"]


def test_wrong_secret_fails_without_details(secret: KeyEncryptionSecret) -> None:
    enc = encrypt_secret(SEED, secret=secret, key_id="k1")
    with pytest.raises(KeyEncryptionError) as info:
        decrypt_secret(enc, secret=KeyEncryptionSecret.generate(), key_id="k1")
    assert info.value.message == (
        "cannot decrypt the secret key: wrong key-encryption secret or damaged record"
    )
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_ciphertext_bound_to_key_id(secret: KeyEncryptionSecret) -> None:
    a = encrypt_secret(b"\x01" * 32, secret=secret, key_id="key-a")
    b = encrypt_secret(b"\x02" * 32, secret=secret, key_id="key-b")
    # swap: record a carries b's ciphertext
    with pytest.raises(KeyEncryptionError, match="wrong key-encryption secret or damaged"):
        decrypt_secret(b, secret=secret, key_id="key-a")
    with pytest.raises(KeyEncryptionError, match="wrong key-encryption secret or damaged"):
        decrypt_secret(a, secret=secret, key_id="key-b")


def test_tampered_or_malformed_records(secret: KeyEncryptionSecret) -> None:
    stored = encrypt_secret(SEED, secret=secret, key_id="k").to_dict()
    ct = bytearray(base64.urlsafe_b64decode(stored["ct"] + "=" * (-len(stored["ct"]) % 4)))
    ct[0] ^= 1
    flipped = {**stored, "ct": base64.urlsafe_b64encode(bytes(ct)).rstrip(b"=").decode()}
    with pytest.raises(KeyEncryptionError, match="damaged record"):
        decrypt_secret(flipped, secret=secret, key_id="k")
    for bad in (
        {**stored, "v": 2},
        {**stored, "alg": "A128GCM"},
        {k: v for k, v in stored.items() if k != "nonce"},
        {**stored, "nonce": "AAAA"},
        {**stored, "salt": "not base64!"},
    ):
        with pytest.raises(KeyEncryptionError):
            decrypt_secret(bad, secret=secret, key_id="k")


# --------------------------------------------------------------------------- secret parsing


@pytest.mark.parametrize("text", [HEX, HEX.upper(), B64, B64 + "=", f"  {B64}\n"])
def test_secret_text_forms(text: str) -> None:
    assert KeyEncryptionSecret.from_text(text) == KeyEncryptionSecret(RAW)


def test_secret_file_forms() -> None:
    assert KeyEncryptionSecret.from_file_contents(f"{HEX}\n".encode()) == KeyEncryptionSecret(RAW)
    raw = b"\xff" + os.urandom(31)
    assert KeyEncryptionSecret.from_file_contents(raw) == KeyEncryptionSecret(raw)


@pytest.mark.parametrize(
    "text", ["", "short", HEX[:-2], B64[:-4], "0" * 64, "correct horse battery staple!!!!"]
)
def test_weak_or_malformed_secrets_refused(text: str) -> None:
    with pytest.raises(KeyConfigurationError) as info:
        KeyEncryptionSecret.from_text(text)
    if text:
        assert text not in info.value.message


def test_secret_repr_hides_value() -> None:
    s = KeyEncryptionSecret(RAW)
    assert HEX not in repr(s) and B64 not in repr(s) and B64 not in str(s)
    assert s.fingerprint in repr(s)


# --------------------------------------------------------------------------- configuration


def test_env_var_first(tmp_path: Path) -> None:
    secret_file = tmp_path / "s"
    secret_file.write_text(KeyEncryptionSecret.generate().to_text())
    got = load_key_encryption_secret(
        environ={ENV_SECRET: B64, ENV_SECRET_FILE: str(secret_file)},
        instance_path=tmp_path,
        production=True,
    )
    assert got == KeyEncryptionSecret(RAW)


def test_secret_file_second(tmp_path: Path) -> None:
    secret_file = tmp_path / "s"
    secret_file.write_text(HEX + "\n")
    got = load_key_encryption_secret(
        environ={ENV_SECRET: "  ", ENV_SECRET_FILE: str(secret_file)},
        instance_path=tmp_path,
        production=True,
    )
    assert got == KeyEncryptionSecret(RAW)


def test_missing_secret_file_named(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match=f"{ENV_SECRET_FILE}: cannot read"):
        load_key_encryption_secret(
            environ={ENV_SECRET_FILE: str(tmp_path / "nope")},
            instance_path=tmp_path,
            production=True,
        )


def test_bad_env_value_named_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match=ENV_SECRET) as info:
        load_key_encryption_secret(
            environ={ENV_SECRET: "hunter2hunter2"}, instance_path=tmp_path, production=True
        )
    assert "hunter2" not in info.value.message


def test_production_without_secret_refuses(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError) as info:
        load_key_encryption_secret(environ={}, instance_path=tmp_path, production=True)
    message = info.value.message
    assert "No key-encryption secret is configured" in message
    assert "Set CREDFOLIO_KEY_ENCRYPTION_SECRET" in message
    assert "CREDFOLIO_KEY_ENCRYPTION_SECRET_FILE" in message
    assert not (tmp_path / DEV_SECRET_FILENAME).exists()


def test_development_default_generated_once_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    instance = tmp_path / "instance"
    with pytest.warns(DevelopmentSecretWarning, match="Generated a DEVELOPMENT"):
        first = load_key_encryption_secret(environ={}, instance_path=instance, production=False)
    path = instance / DEV_SECRET_FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "development default" in caplog.text
    with pytest.warns(DevelopmentSecretWarning, match="Using a DEVELOPMENT"):
        second = load_key_encryption_secret(environ={}, instance_path=instance, production=False)
    assert first == second
    assert KeyEncryptionSecret.from_file_contents(path.read_bytes()) == first
    assert [p.name for p in instance.iterdir()] == [DEV_SECRET_FILENAME]  # no temp files left
    # a secret in the environment wins over the development file, with no warning
    assert load_key_encryption_secret(
        environ={ENV_SECRET: B64}, instance_path=instance, production=False
    ) == KeyEncryptionSecret(RAW)
