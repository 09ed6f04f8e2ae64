"""Which argon2id parameters hash passwords and client secrets: production ones everywhere but
in apps made for tests (TESTING), whose cheap ones keep the suite fast."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from portfolio.core.hashing import FOR_TESTS, PRODUCTION, TEST_HASHING, password_hasher
from tests.conftest import TEST_KEK
from wsgi import create_app


def _app(tmp_path: Path, **config: object):
    return create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_SECRET_KEY": "s" * 40,
            **config,
        }
    )


def test_production_hashes_use_the_rfc_9106_low_memory_parameters(tmp_path: Path):
    with _app(tmp_path).app_context():
        assert password_hasher() is PRODUCTION
        stored = password_hasher().hash("correct horse battery staple")
    assert extract_parameters(stored) == RFC_9106_LOW_MEMORY
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_without_an_app_the_production_parameters_are_used():
    assert password_hasher() is PRODUCTION


def test_apps_made_for_tests_hash_cheaply_unless_told_otherwise(tmp_path: Path):
    with _app(tmp_path / "a", TESTING=True).app_context():
        assert password_hasher() is FOR_TESTS
    with _app(tmp_path / "b", TESTING=True, **{TEST_HASHING: False}).app_context():
        assert password_hasher() is PRODUCTION


def test_a_production_app_never_hashes_cheaply(tmp_path: Path):
    app = _app(
        tmp_path, TESTING=True, CREDFOLIO_ENV="production", CREDFOLIO_SMTP_HOST="smtp.example"
    )
    with app.app_context():
        assert password_hasher() is PRODUCTION


def test_the_cheap_parameters_keep_the_algorithm_salt_and_length():
    cheap, real = extract_parameters(FOR_TESTS.hash("x")), RFC_9106_LOW_MEMORY
    assert (cheap.type, cheap.version, cheap.salt_len, cheap.hash_len) == (
        real.type,
        real.version,
        real.salt_len,
        real.hash_len,
    )
    # A hash verifies whichever hasher checks it (the parameters are read from the hash).
    assert PasswordHasher().verify(FOR_TESTS.hash("secret"), "secret")
    assert FOR_TESTS.verify(PRODUCTION.hash("secret"), "secret")
