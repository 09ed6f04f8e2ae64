"""The database going away and coming back (portfolio/core/unavailable.py): requests answer 503 with
``Retry-After`` and a clear message — JSON on the API, a page elsewhere — and the same server
process answers again, without a restart, once the database is back.

The real thing: a real ``credfolio serve`` talks to the real PostgreSQL through a TCP proxy
(threads on loopback) that the test cuts — every connection closed, new ones refused — and
restores.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portfolio.core.db import db
from tests.conftest import TEST_KEK
from tests.serving import create_signing_key, free_port, running_server, server_environment
from wsgi import create_app

DATABASE_URL = os.environ.get("CREDFOLIO_DATABASE_URL", "")
on_postgresql = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgresql"),
    reason="needs PostgreSQL: set CREDFOLIO_DATABASE_URL=postgresql+psycopg://...",
)


# -- an app whose database is not there at all (runs on SQLite and PostgreSQL alike) ----------


@pytest.fixture
def app_without_database(tmp_path: Path) -> Iterator[Any]:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": (
                f"postgresql+psycopg://postgres:pw-never-shown@127.0.0.1:{free_port()}/gone"
            ),
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_api_requests_get_a_json_503_with_retry_after(app_without_database):
    response = app_without_database.test_client().get("/.well-known/did.json")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    body = response.get_json()
    assert body["error"] == "DATABASE_UNAVAILABLE"
    assert "database cannot be reached" in body["detail"]
    assert "pw-never-shown" not in response.get_data(as_text=True)


def test_pages_get_a_readable_503(app_without_database):
    response = app_without_database.test_client().get("/", headers={"X-Request-ID": "outage-1"})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert "Temporarily unavailable" in page
    assert "cannot reach its database" in page
    assert "outage-1" in page  # the reference to quote
    assert "Traceback" not in page and "pw-never-shown" not in page


def test_the_503_page_keeps_its_stylesheet(app_without_database):
    """The stylesheet is a file: it is served while the database is away."""
    client = app_without_database.test_client()
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'<link rel="stylesheet" href="(/static/credfolio\.css\?v=[0-9a-f]+)">', page)
    assert link, page
    with client.get(link.group(1)) as stylesheet:
        assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"


def test_a_json_client_of_a_page_gets_json(app_without_database):
    client = app_without_database.test_client()
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "DATABASE_UNAVAILABLE"


def test_the_engine_pings_and_bounds_connection_attempts(app_without_database):
    options = app_without_database.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert options["connect_args"]["connect_timeout"] > 0


# -- the real server, the real PostgreSQL, and a proxy between them ---------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; :meth:`cut` closes every connection and stops
    listening (new connections are refused), :meth:`restore` listens on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                pump = threading.Thread(target=self._pump, args=(source, sink), daemon=True)
                pump.start()
                self._threads.append(pump)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    url = make_url(DATABASE_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.restore()
    yield proxy
    proxy.cut()


@pytest.fixture
def clean_database() -> Iterator[None]:
    """The server migrates the test database; afterwards every table goes again."""
    yield
    engine = create_engine(DATABASE_URL)
    try:
        db.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()


def until(predicate: Any, what: str, deadline: float = 30.0) -> Any:
    """Poll ``predicate`` until it returns something true (a deadline, not a measurement)."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.2)


@pytest.mark.postgres
@on_postgresql
def test_the_server_answers_503_while_postgresql_is_away_and_recovers_alone(
    tmp_path, proxy, clean_database
):
    proxied = make_url(DATABASE_URL).set(host="127.0.0.1", port=proxy.port)
    env = server_environment(
        tmp_path, CREDFOLIO_DATABASE_URL=proxied.render_as_string(hide_password=False)
    )
    with running_server(tmp_path, "--workers", "1", "--migrate", env=env) as server:
        create_signing_key(env, tmp_path)  # ready means able to sign too
        assert server.get("/readyz").status == 200
        assert server.get("/.well-known/did.json").status == 200
        assert server.get("/").status == 200

        proxy.cut()
        api = server.get("/.well-known/did.json")
        assert api.status == 503
        assert api.headers["Retry-After"].isdigit()
        assert api.json()["error"] == "DATABASE_UNAVAILABLE"
        page = server.get("/", headers={"X-Request-ID": "while-away"})
        assert page.status == 503
        assert "cannot reach its database" in page.text and "while-away" in page.text
        assert server.get("/healthz").status == 200  # the process itself is fine
        readiness = server.get("/readyz")
        assert readiness.status == 503
        assert {c["name"]: c["status"] for c in readiness.json()["checks"]}["database"] == "failed"

        proxy.restore()
        until(lambda: server.get("/.well-known/did.json").status == 200, "the API back")
        assert server.get("/").status == 200
        assert server.get("/readyz").status == 200
        assert server.process.poll() is None
    booted = [line for line in server.log_lines() if "Booting worker" in line]
    assert len(booted) == 1  # recovered in the same worker: nothing was restarted
    warnings = [line for line in server.json_log_lines() if line.get("level") == "WARNING"]
    assert any("database unavailable" in line["message"] for line in warnings)


def test_the_pool_size_per_worker_is_configurable_on_postgresql(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDFOLIO_DB_POOL_SIZE", "2")
    monkeypatch.setenv("CREDFOLIO_DB_MAX_OVERFLOW", "0")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/unused",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        }
    )
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["max_overflow"]) == (2, 0)
    with app.app_context():
        assert db.engine.pool.size() == 2
        db.engine.dispose()
    monkeypatch.setenv("CREDFOLIO_DB_POOL_SIZE", "zero")
    with pytest.raises(RuntimeError, match="CREDFOLIO_DB_POOL_SIZE"):
        create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/x",
                "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            }
        )


def test_a_signed_in_persons_missing_page_is_a_503_too(app_without_database):
    # The 404 page shows the account menu, which needs the database: the outage behind it is
    # answered as an outage, not as a bare 500.  (Apps made for tests re-raise errors that
    # escape an error handler; a served app does not.)
    app_without_database.config["PROPAGATE_EXCEPTIONS"] = False
    client = app_without_database.test_client()
    with client.session_transaction() as session:
        session.update(user_id=1, session_version=1)
    response = client.get("/no-such-page")
    assert response.status_code == 503
    assert "cannot reach its database" in response.get_data(as_text=True)


def test_other_database_errors_on_pages_stay_500s(app):
    from sqlalchemy.exc import IntegrityError

    @app.get("/_integrity")
    def integrity() -> str:
        raise IntegrityError("INSERT ...", {}, Exception("duplicate key"))

    response = app.test_client().get("/_integrity")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
