"""Request ids and structured logs (portfolio/core/request_log.py), and the reverse-proxy headers
(CREDFOLIO_TRUSTED_PROXIES, portfolio/operations/setup.py): one JSON line per request with the
request
id that the response echoes and the error pages show; the client's address behind a proxy."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest

from portfolio.accounts import auth
from portfolio.accounts.issuers import default_issuer
from portfolio.core.request_log import ACCESS_LOGGER
from tests.conftest import TEST_KEK
from tests.portfolio.school import person
from wsgi import create_app

GENERATED = re.compile(r"[0-9a-f]{32}")


def make_app(tmp_path: Path, **config: Any) -> Any:
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'log.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            **config,
        }
    )


@pytest.fixture
def json_logging() -> Iterator[None]:
    """Remove the stderr handler a JSON-logging app installs on the root logger."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == ACCESS_LOGGER]


def test_every_response_carries_a_generated_request_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


def test_a_well_formed_incoming_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:0042.retry-1"})
    assert response.headers["X-Request-ID"] == "lb-7f3a:0042.retry-1"


@pytest.mark.parametrize(
    "hostile",
    ["a" * 129, "<script>alert(1)</script>", "id with spaces", "-leading-dash", "ünïcode", ""],
)
def test_a_malformed_incoming_request_id_is_replaced(client, hostile):
    response = client.get("/healthz", headers={"X-Request-ID": hostile})
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_one_log_line_per_request_with_its_fields(app, client, caplog):
    with app.app_context():
        user = person(default_issuer(), "student", "Sam S")
        with app.test_request_context():
            auth.sign_in(user)
            state = dict(flask.session)
        user_id = user.id
    with client.session_transaction() as session:
        session.update(state)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    response = client.get(
        "/profile?token=secret-in-the-query",
        headers={"X-Request-ID": "trace-1"},
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    )
    assert response.status_code == 200
    (record,) = access_records(caplog)
    assert record.levelno == logging.INFO
    assert record.request_id == "trace-1"
    assert (record.method, record.path, record.status) == ("GET", "/profile", 200)
    assert record.remote_addr == "192.0.2.10"
    assert record.user_id == user_id
    assert isinstance(record.duration_ms, float) and record.duration_ms >= 0
    assert "secret-in-the-query" not in record.getMessage()


def test_anonymous_requests_log_no_user_and_probes_log_at_debug(client, caplog):
    caplog.set_level(logging.DEBUG, logger=ACCESS_LOGGER)
    client.get("/")
    client.get("/healthz")
    home, probe = access_records(caplog)
    assert (home.path, home.levelno, home.user_id) == ("/", logging.INFO, None)
    assert (probe.path, probe.levelno) == ("/healthz", logging.DEBUG)


def test_json_lines_carry_the_request_id_of_application_logs_too(tmp_path, capsys, json_logging):
    app = make_app(tmp_path, CREDFOLIO_LOG_FORMAT="json", CREDFOLIO_LOG_LEVEL="info")

    @app.get("/_log-something")
    def log_something() -> str:
        app.logger.warning("something worth knowing", extra={"evidence_id": 7})
        return "ok"

    client = app.test_client()
    response = client.get("/_log-something?q=private", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    warning = next(line for line in lines if line["message"] == "something worth knowing")
    assert warning["request_id"] == "req-42"
    assert warning["level"] == "WARNING"
    assert warning["evidence_id"] == 7
    access = next(line for line in lines if line["logger"] == ACCESS_LOGGER)
    assert access["request_id"] == "req-42"
    assert access["path"] == "/_log-something"
    assert access["status"] == 200
    assert {"timestamp", "duration_ms", "remote_addr", "user_id", "method"} <= access.keys()
    assert "private" not in json.dumps(lines)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("CREDFOLIO_LOG_FORMAT", "xml"), ("CREDFOLIO_LOG_LEVEL", "chatty")],
)
def test_unknown_log_settings_are_refused(tmp_path, setting, value):
    with pytest.raises(RuntimeError, match=setting):
        make_app(tmp_path, **{setting: value})


def test_error_pages_show_the_request_id(client):
    response = client.get("/no-such-page", headers={"X-Request-ID": "quote-me-123"})
    assert response.status_code == 404
    assert "quote-me-123" in response.get_data(as_text=True)


# -- behind a reverse proxy ------------------------------------------------------------------


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(client, caplog):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    client.get("/", headers={"X-Forwarded-For": "203.0.113.50"})
    (record,) = access_records(caplog)
    assert record.remote_addr == "127.0.0.1"


def test_one_trusted_proxy_gives_the_clients_address_scheme_and_host(tmp_path, caplog):
    app = make_app(tmp_path, CREDFOLIO_TRUSTED_PROXIES="1")

    @app.get("/_where")
    def where() -> dict[str, str | None]:
        return {"addr": flask.request.remote_addr, "url": flask.request.url_root}

    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    headers = {
        # A client's forged first entry is not taken: only the last one, set by our proxy.
        "X-Forwarded-For": "10.6.6.6, 203.0.113.50",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "credentials.school.example",
    }
    body = app.test_client().get("/_where", headers=headers).get_json()
    assert body == {"addr": "203.0.113.50", "url": "https://credentials.school.example/"}
    (record,) = access_records(caplog)
    assert record.remote_addr == "203.0.113.50"


def test_rate_limits_count_per_client_behind_a_trusted_proxy(tmp_path):
    app = make_app(
        tmp_path,
        CREDFOLIO_TRUSTED_PROXIES="1",
        CREDFOLIO_RATELIMIT_ENABLED=True,
        CREDFOLIO_RATELIMIT_VERIFY="2 per minute",
        CREDFOLIO_RATELIMIT_KEY_PREFIX=f"ops-test-{tmp_path.name}",
    )
    client = app.test_client()

    def verify(client_address: str) -> int:
        headers = {"X-Forwarded-For": client_address}
        return int(client.post("/credentials/verify", json={}, headers=headers).status_code)

    assert [verify("203.0.113.1") for _ in range(3)] == [400, 400, 429]
    assert verify("203.0.113.2") == 400  # another client behind the same proxy: its own budget


@pytest.mark.parametrize("value", ["-1", "many", "9"])
def test_a_bad_trusted_proxies_setting_is_refused(tmp_path, value):
    with pytest.raises(RuntimeError, match="CREDFOLIO_TRUSTED_PROXIES"):
        make_app(tmp_path, CREDFOLIO_TRUSTED_PROXIES=value)
