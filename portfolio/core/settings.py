"""Typed settings: every ``CREDFOLIO_*`` setting (README, "Configuration"), parsed and checked once
by ``wsgi.create_app`` from the environment and the test mapping, then read through
:func:`settings`.  No other module reads the environment for them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from flask import Flask, current_app

from issuer_keys.did import did_web_to_url, resolve_did_key
from issuer_keys.errors import InvalidDidError

#: Where :func:`wsgi.create_app` keeps the app's :class:`Settings`.
EXTENSION = "credfolio.settings"
PREFIX = "CREDFOLIO_"
#: Set by ``credfolio serve`` for its workers (prometheus_client's multiprocess mode).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: More than this many proxies in front of one service is a misconfiguration, not a topology.
MAX_TRUSTED_PROXIES = 5
#: Settings no longer read, and what replaced them: a start with one set is refused, so that a
#: configuration never silently stops meaning what it said.
RETIRED = {
    "CREDFOLIO_STATUS_PURPOSES": "suspension is now an option of each issuer (off by default, so "
    "credentials carry the one credentialStatus the 1EdTech schema allows): switch it on with "
    "`credfolio issuer suspension on` or on the administrators' issuer page, and unset "
    "CREDFOLIO_STATUS_PURPOSES",
}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingError(RuntimeError, ValueError):
    """A setting whose value cannot be used: the message names the setting.  The app refuses to
    start (a ``RuntimeError``, as every start-up refusal; a ``ValueError`` too, for the callers
    that always caught bad values as such)."""


# -- parsers: raw value (a string from the environment, or any value from the test mapping) ---


def _text(_name: str, raw: object) -> str:
    return str(raw)


def _flag(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise SettingError(f"{name} must be true or false (1/0, yes/no, on/off), not {raw!r}")


def _whole(name: str, raw: object, *, least: int, what: str) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = least - 1
    if value < least:
        raise SettingError(f"{name} must be {what}, not {raw!r}")
    return value


def _positive(name: str, raw: object) -> int:
    return _whole(name, raw, least=1, what="a whole number of at least 1")


def _port(name: str, raw: object) -> int:
    value = _whole(name, raw, least=1, what="a port number (1-65535)")
    if value > 65535:
        raise SettingError(f"{name} must be a port number (1-65535), not {raw!r}")
    return value


def _seconds(name: str, raw: object) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = 0.0
    if not value > 0:
        raise SettingError(f"{name} must be a number of seconds above 0, not {raw!r}")
    return value


def _trusted_proxies(name: str, raw: object) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_TRUSTED_PROXIES:
        raise SettingError(
            f"{name} must be the number of reverse proxies in front of the service, from 0 to "
            f"{MAX_TRUSTED_PROXIES}, not {raw!r}"
        )
    return value


def _pool(name: str, raw: object) -> int:
    least = 1 if name.endswith("POOL_SIZE") else 0
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if value < least:
        raise SettingError(f"{name} must be a whole number (pool size at least 1)")
    return value


def _recipient_identity(name: str, raw: object) -> str:
    if raw not in ("email", "did"):
        raise SettingError(
            f"{name} must be 'email' (a salted hash of the student's email) "
            "or 'did' (the student's DID when they gave one)"
        )
    return str(raw)


def _storage(name: str, raw: object) -> str:
    kind = str(raw).strip().lower()
    if kind not in ("local", "s3"):
        raise SettingError(f"{name} must be 'local' or 's3', not {kind!r}")
    return kind


def _log_format(name: str, raw: object) -> str:
    value = str(raw).strip().lower()
    if value not in ("json", "text"):
        raise SettingError(f"{name} must be 'json' or 'text', not {value!r}")
    return value


def _log_level(name: str, raw: object) -> int:
    value = str(raw).strip().upper()
    if value not in _LOG_LEVELS:
        raise SettingError(f"{name} must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {value!r}")
    return logging.getLevelNamesMapping()[value]


def _issuer_did(name: str, raw: object) -> str:
    """A DID this service can sign as: its ``did:web`` (keys made by ``keys create``), or a
    ``did:key`` (the one key it names, made by ``keys create-did-key``)."""
    did = str(raw).strip()
    try:
        if did.startswith("did:web:"):
            did_web_to_url(did)
            return did
        if did.startswith("did:key:") and "#" not in did:
            resolve_did_key(did)
            return did
    except InvalidDidError as exc:
        raise SettingError(f"{name} is not a valid DID ({exc.message}): {did!r}") from None
    raise SettingError(
        f"{name} must be a did:web (e.g. did:web:school.example) or a did:key made by "
        f"`credfolio keys create-did-key`, not {did!r}"
    )


def _trust_registries(name: str, raw: object) -> tuple[tuple[str, str], ...]:
    # "Name=/path/registry.json,/other.json": a registry without a name is named by its file.
    items = (
        raw.split(",")
        if isinstance(raw, str)
        else list(raw)
        if isinstance(raw, list | tuple)
        else [raw]
    )
    registries = []
    for item in (str(item).strip() for item in items):
        if not item:
            continue
        label, _, path = item.rpartition("=")
        path = path.strip()
        if not path:
            raise SettingError(f"{name}: {item!r} names no file (NAME=PATH or PATH)")
        registries.append((label.strip() or path.rsplit("/", 1)[-1], path))
    return tuple(registries)


Parser = Callable[[str, object], Any]


@dataclass(frozen=True)
class Settings:
    """Every setting, typed.  Field ``x_y`` is ``CREDFOLIO_X_Y`` (see :data:`_SOURCES` for the
    exceptions); None means "not set" where that differs from any value."""

    env: str = "development"
    #: Secrets are left out of the settings' repr (a log line must never show them).
    secret_key: str | None = field(default=None, repr=False)
    key_encryption_secret: str | None = field(default=None, repr=False)
    key_encryption_secret_file: str | None = None
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:5000"
    #: None: the ``did:web`` of the public URL's host (wsgi.default_issuer_did).
    issuer_did: str | None = None
    issuer_name: str = "Credfolio Demo School"
    recipient_identity: str = "email"
    #: DCC issuer-registry files whose issuers verification confirms (issuer-trust), in order.
    trust_registries: tuple[tuple[str, str], ...] = ()
    allow_fetch: bool = False
    storage: Literal["local", "s3"] = "local"
    storage_path: str | None = None
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    max_upload_bytes: int = 100 * 1024 * 1024
    user_quota_bytes: int = 1024 * 1024 * 1024
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    #: On unless switched off: credentials and reset links never cross the network in clear.
    smtp_starttls: bool = True
    mail_from: str | None = None
    mail_outbox: str | None = None
    bulk_background: bool = True
    bulk_lease_seconds: float = 60.0
    instance_path: str | None = None
    contexts_dir: str | None = None
    #: None: on, except in apps made for tests (``TESTING``).
    ratelimit_enabled: bool | None = None
    ratelimit_storage_url: str = "memory://"
    ratelimit_key_prefix: str = "credfolio"
    ratelimit_verify: str = "30 per minute; 300 per hour"
    ratelimit_token: str = "30 per minute; 300 per hour"  # noqa: S105 (a rate, not a secret)
    ratelimit_sign_in: str = "10 per minute; 50 per hour"
    ratelimit_password_reset: str = "5 per minute; 20 per hour"  # noqa: S105 (a rate)
    #: The number of workers serving this app on this machine (``credfolio serve`` sets it):
    #: while Redis is away, each counts rate limits alone, so each gets this share of them.
    workers: int = 1
    #: None: not set (``text``; apps made for tests then leave logging to pytest).
    log_format: str | None = None
    log_level: int = logging.INFO
    trusted_proxies: int = 0
    metrics_token: str | None = field(default=None, repr=False)
    list_count_limit: int = 10_000
    #: None: SQLAlchemy's own pool defaults (5 and 10).
    db_pool_size: int | None = None
    db_max_overflow: int | None = None
    #: ``PROMETHEUS_MULTIPROC_DIR`` (set by ``credfolio serve``): every worker's metrics summed.
    prometheus_multiproc_dir: str | None = None

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_sources(
        cls, environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None
    ) -> Settings:
        """Parse and check every setting once: a value in ``overrides`` (the test mapping,
        same names) wins, then the environment; an empty or missing value means the default.

        Raises :class:`SettingError` (a ``RuntimeError``) naming the first bad setting.
        """
        overrides = overrides or {}
        for name, instead in RETIRED.items():
            if overrides.get(name) or environ.get(name):
                raise SettingError(f"{name} is no longer read: {instead}")
        values: dict[str, Any] = {}
        for attribute, (name, parse) in _SOURCES.items():
            raw = overrides.get(name)
            if raw is None or raw == "":
                raw = environ.get(name)
            if raw is None or raw == "":
                continue
            values[attribute] = parse(name, raw)
        settings = cls(**values)
        if settings.storage == "s3" and not settings.s3_bucket:
            raise SettingError("CREDFOLIO_STORAGE=s3 needs CREDFOLIO_S3_BUCKET")
        return settings

    def app_config(self) -> dict[str, Any]:
        """The ``app.config`` keys of these settings that other code reads there (the keys set
        before settings were typed; a setting that is not set is left out)."""
        config = {}
        for attribute in _IN_APP_CONFIG:
            value = getattr(self, attribute)
            if value is not None:
                config[_SOURCES[attribute][0]] = value
        return config


def _source(field_name: str) -> tuple[str, Parser]:
    name = (
        MULTIPROC_ENV if field_name == "prometheus_multiproc_dir" else PREFIX + field_name.upper()
    )
    return name, _PARSERS.get(field_name, _text)


_PARSERS: dict[str, Parser] = {
    "issuer_did": _issuer_did,
    "recipient_identity": _recipient_identity,
    "trust_registries": _trust_registries,
    "allow_fetch": _flag,
    "storage": _storage,
    "max_upload_bytes": _positive,
    "user_quota_bytes": _positive,
    "smtp_port": _port,
    "smtp_starttls": _flag,
    "bulk_background": _flag,
    "bulk_lease_seconds": _seconds,
    "ratelimit_enabled": _flag,
    "log_format": _log_format,
    "log_level": _log_level,
    "trusted_proxies": _trusted_proxies,
    "list_count_limit": _positive,
    "workers": _positive,
    "db_pool_size": _pool,
    "db_max_overflow": _pool,
}
#: Field → (the variable it is read from, its parser).
_SOURCES: dict[str, tuple[str, Parser]] = {
    item.name: _source(item.name) for item in fields(Settings)
}
#: The settings other modules still read from ``app.config`` (the key-encryption secret, the
#: storage, mail, logging and metrics settings are read from :class:`Settings` only).
_IN_APP_CONFIG = (
    "env",
    "secret_key",
    "database_url",
    "public_url",
    "issuer_did",
    "issuer_name",
    "recipient_identity",
    "allow_fetch",
    "max_upload_bytes",
    "user_quota_bytes",
    "bulk_background",
    "bulk_lease_seconds",
    "ratelimit_enabled",
    "ratelimit_storage_url",
    "ratelimit_key_prefix",
    "ratelimit_verify",
    "ratelimit_token",
    "ratelimit_sign_in",
    "ratelimit_password_reset",
    "list_count_limit",
)


def settings(app: Flask | None = None) -> Settings:
    """The settings of ``app`` (default: the current app), as ``create_app`` read them."""
    found: Settings = (app or current_app).extensions[EXTENSION]
    return found
