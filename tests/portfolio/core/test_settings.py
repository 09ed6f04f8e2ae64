"""Typed settings (portfolio/core/settings.py): every ``CREDFOLIO_*`` setting parsed and checked
once, from the environment and the test mapping (which wins), by ``create_app``; a bad value
stops the start with the setting's name; nothing reads the environment afterwards."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from portfolio.core import mail
from portfolio.core.settings import EXTENSION, SettingError, Settings, settings
from tests.conftest import TEST_KEK
from wsgi import create_app


class CountingEnviron(Mapping[str, str]):
    """An environment that counts how often each variable is read."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.reads: Counter[str] = Counter()

    def __getitem__(self, name: str) -> str:
        self.reads[name] += 1
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def make_app(tmp_path: Path, **config: Any) -> Any:
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'settings.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            **config,
        }
    )


def test_the_defaults_are_the_documented_ones():
    config = Settings.from_sources({})
    assert (config.env, config.public_url, config.issuer_name) == (
        "development",
        "http://127.0.0.1:5000",
        "Credfolio Demo School",
    )
    assert (config.recipient_identity, config.allow_fetch, config.storage) == (
        "email",
        False,
        "local",
    )
    assert (config.max_upload_bytes, config.user_quota_bytes) == (100 * 1024**2, 1024**3)
    assert (config.smtp_host, config.smtp_port, config.smtp_starttls) == (None, 587, True)
    assert (config.bulk_background, config.bulk_lease_seconds) == (True, 60.0)
    assert config.ratelimit_enabled is None  # on, except in apps made for tests
    assert config.ratelimit_storage_url == "memory://"
    assert config.ratelimit_sign_in == "10 per minute; 50 per hour"
    assert (config.log_format, config.log_level) == (None, logging.INFO)
    assert (config.trusted_proxies, config.metrics_token, config.list_count_limit) == (
        0,
        None,
        10_000,
    )
    assert (config.db_pool_size, config.db_max_overflow) == (None, None)


def test_values_are_parsed_into_their_types():
    config = Settings.from_sources(
        {
            "CREDFOLIO_ALLOW_FETCH": "Yes",
            "CREDFOLIO_BULK_BACKGROUND": "off",
            "CREDFOLIO_BULK_LEASE_SECONDS": "2.5",
            "CREDFOLIO_SMTP_PORT": " 2525 ",
            "CREDFOLIO_TRUSTED_PROXIES": "2",
            "CREDFOLIO_LOG_FORMAT": " JSON",
            "CREDFOLIO_LOG_LEVEL": "warning",
            "CREDFOLIO_DB_POOL_SIZE": "3",
            "CREDFOLIO_DB_MAX_OVERFLOW": "0",
            "PROMETHEUS_MULTIPROC_DIR": "/run/metrics",
        }
    )
    assert (config.allow_fetch, config.bulk_background, config.bulk_lease_seconds) == (
        True,
        False,
        2.5,
    )
    assert (config.smtp_port, config.trusted_proxies) == (2525, 2)
    assert (config.log_format, config.log_level) == ("json", logging.WARNING)
    assert (config.db_pool_size, config.db_max_overflow) == (3, 0)
    assert config.prometheus_multiproc_dir == "/run/metrics"


@pytest.mark.parametrize(
    "name, value",
    [
        ("CREDFOLIO_TRUSTED_PROXIES", "6"),
        ("CREDFOLIO_TRUSTED_PROXIES", "one"),
        ("CREDFOLIO_LOG_FORMAT", "xml"),
        ("CREDFOLIO_LOG_LEVEL", "chatty"),
        ("CREDFOLIO_LOG_LEVEL", "WARN"),
        ("CREDFOLIO_DB_POOL_SIZE", "0"),
        ("CREDFOLIO_DB_MAX_OVERFLOW", "-1"),
        ("CREDFOLIO_LIST_COUNT_LIMIT", "2.5"),
        ("CREDFOLIO_SMTP_PORT", "smtp"),
        ("CREDFOLIO_SMTP_PORT", "70000"),
        ("CREDFOLIO_MAX_UPLOAD_BYTES", "0"),
        ("CREDFOLIO_BULK_LEASE_SECONDS", "never"),
        ("CREDFOLIO_ALLOW_FETCH", "maybe"),
        ("CREDFOLIO_RATELIMIT_ENABLED", "sometimes"),
        ("CREDFOLIO_RECIPIENT_IDENTITY", "name"),
        ("CREDFOLIO_STORAGE", "ftp"),
        ("CREDFOLIO_ISSUER_DID", "did:example:123"),
        ("CREDFOLIO_ISSUER_DID", "https://school.example"),
        ("CREDFOLIO_ISSUER_DID", "did:key:z6MkNotAKey"),
        ("CREDFOLIO_ISSUER_DID", "did:key:z6Mkmeb2FCMkAaPnV6WLKH3UJUz6iJ3PLNatSaycqkCQzPjE#key-1"),
        ("CREDFOLIO_ISSUER_DID", "did:web:School.Example"),
    ],
)
def test_a_bad_value_is_refused_with_the_setting_s_name(name, value):
    with pytest.raises(RuntimeError, match=name):
        Settings.from_sources({name: value})
    with pytest.raises(SettingError, match=name):  # from the test mapping alike
        Settings.from_sources({}, {name: value})


def test_a_bad_value_stops_the_app_from_starting(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDFOLIO_SMTP_PORT", "twenty-five")
    with pytest.raises(RuntimeError, match="CREDFOLIO_SMTP_PORT"):
        make_app(tmp_path)


def test_s3_storage_needs_a_bucket():
    with pytest.raises(RuntimeError, match="CREDFOLIO_S3_BUCKET"):
        Settings.from_sources({"CREDFOLIO_STORAGE": "s3"})


def test_the_test_mapping_wins_over_the_environment_and_empty_values_do_not():
    environ = {"CREDFOLIO_ISSUER_NAME": "From the environment", "CREDFOLIO_SMTP_HOST": "smtp.env"}
    config = Settings.from_sources(
        environ, {"CREDFOLIO_ISSUER_NAME": "From the test", "CREDFOLIO_SMTP_HOST": ""}
    )
    assert config.issuer_name == "From the test"
    assert config.smtp_host == "smtp.env"  # an empty override is "not set"
    assert Settings.from_sources({"CREDFOLIO_SMTP_HOST": ""}).smtp_host is None


def test_each_variable_is_read_once():
    environ = CountingEnviron({"CREDFOLIO_PUBLIC_URL": "https://school.example"})
    config = Settings.from_sources(environ)
    assert config.public_url == "https://school.example"
    assert environ.reads["CREDFOLIO_PUBLIC_URL"] == 1
    assert max(environ.reads.values()) == 1


def test_the_app_keeps_its_settings_and_the_environment_is_not_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDFOLIO_ISSUER_NAME", "Riverside Academy")
    monkeypatch.setenv("CREDFOLIO_MAIL_FROM", "Riverside <office@riverside.example>")
    monkeypatch.setenv("CREDFOLIO_METRICS_TOKEN", "scrape-me-please-0123456789")
    app = make_app(tmp_path, CREDFOLIO_PUBLIC_URL="https://riverside.example")
    assert settings(app) is app.extensions[EXTENSION]
    monkeypatch.setenv("CREDFOLIO_MAIL_FROM", "someone-else@example.org")
    monkeypatch.delenv("CREDFOLIO_METRICS_TOKEN")
    with app.app_context():
        assert settings().issuer_name == "Riverside Academy"
        assert settings().issuer_did == "did:web:riverside.example"
        assert mail.settings().sender == "Riverside <office@riverside.example>"
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    bearer = {"Authorization": "Bearer scrape-me-please-0123456789"}
    client = app.test_client()
    assert client.get("/metrics", environ_base=remote, headers=bearer).status_code == 200


def test_app_config_keeps_its_keys_and_the_test_mapping_still_overrides_them(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDFOLIO_BULK_LEASE_SECONDS", "30")
    monkeypatch.setenv("CREDFOLIO_LIST_COUNT_LIMIT", "500")
    monkeypatch.setenv("CREDFOLIO_MAX_UPLOAD_BYTES", "4096")  # documented, and now read
    app = make_app(tmp_path, CREDFOLIO_LIST_COUNT_LIMIT="250", CREDFOLIO_ALLOW_FETCH=True)
    assert app.config["CREDFOLIO_ENV"] == "development"
    assert app.config["CREDFOLIO_ISSUER_NAME"] == "Credfolio Demo School"
    assert app.config["CREDFOLIO_BULK_LEASE_SECONDS"] == 30.0
    assert app.config["CREDFOLIO_LIST_COUNT_LIMIT"] == 250
    assert app.config["CREDFOLIO_MAX_UPLOAD_BYTES"] == 4096
    assert app.config["CREDFOLIO_ALLOW_FETCH"] is True
    assert app.config["CREDFOLIO_ISSUER_DID"] == settings(app).issuer_did
    assert settings(app).list_count_limit == 250
    assert "CREDFOLIO_KEY_ENCRYPTION_SECRET" not in Settings.from_sources({}).app_config()


def test_secrets_stay_out_of_the_settings_repr():
    config = Settings.from_sources(
        {
            "CREDFOLIO_SECRET_KEY": "session-secret-0123456789",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_SMTP_PASSWORD": "mail-secret-0123456789",
            "CREDFOLIO_METRICS_TOKEN": "scrape-secret-0123456789",
        }
    )
    shown = repr(config)
    assert "secret-0123456789" not in shown and TEST_KEK not in shown
    assert config.secret_key == "session-secret-0123456789"


def test_the_retired_status_purposes_setting_stops_the_start_and_says_what_replaced_it():
    # Suspension is chosen per issuer now; a setting that silently stopped working would leave
    # an operator believing every credential can still be suspended.
    for value in ("revocation,suspension", "revocation"):
        with pytest.raises(SettingError, match="CREDFOLIO_STATUS_PURPOSES is no longer read"):
            Settings.from_sources({"CREDFOLIO_STATUS_PURPOSES": value})
    with pytest.raises(SettingError, match="credfolio issuer suspension on"):
        Settings.from_sources({}, {"CREDFOLIO_STATUS_PURPOSES": "revocation"})


def test_a_did_key_issuer_is_accepted_as_the_did_it_is():
    did = "did:key:z6Mkmeb2FCMkAaPnV6WLKH3UJUz6iJ3PLNatSaycqkCQzPjE"
    assert Settings.from_sources({"CREDFOLIO_ISSUER_DID": did}).issuer_did == did
