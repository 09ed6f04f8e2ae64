"""Durability fixtures: the real app under gunicorn (its own processes, on a free loopback
port), PostgreSQL connections of the test's own (to hold locks and watch ``pg_stat_activity``),
small HTTP clients for the VC-API and the administration pages, and the invariants every test
checks afterwards — in the database and through the public, signed status lists.

Nothing here reaches into the server: every test talks to it over HTTP, kills it with real
signals and reads the database it left behind.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import TEST_KEK, unsigned_badge
from tests.serving import Reply

ROOT = Path(__file__).resolve().parents[2]
#: The gunicorn of the interpreter running the tests (.venv/bin/gunicorn).
GUNICORN = Path(sys.executable).with_name("gunicorn")
#: Bounded waits: the machine is shared, so generous, but never endless.
READY_TIMEOUT = 90.0
WAIT_TIMEOUT = 60.0
HTTP_TIMEOUT = 60.0
ADMIN_EMAIL = "ada.admin@school.test"


def wait_until(what: str, condition: Callable[[], Any], timeout: float = WAIT_TIMEOUT) -> Any:
    """Poll ``condition`` until it returns something truthy (returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


# -- HTTP -------------------------------------------------------------------------------------


class Http:
    """A small HTTP/1.1 client for loopback (the standard library only) that keeps cookies
    like a browser.  One connection per request, as gunicorn's sync workers close them."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if value and "Expires=Thu, 01 Jan 1970" not in header:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
            return Reply(response.status, dict(response.headers.items()), data)
        finally:
            connection.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post_json(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.request(
            "POST",
            path,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def post_form(self, path: str, fields: dict[str, str]) -> Reply:
        return self.request(
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )


def public_id_of(credential: dict[str, Any]) -> str:
    """The public id at the end of a credential's ``id`` (``<public URL>/c/<public id>``)."""
    return str(credential["id"]).rsplit("/", 1)[1]


class ApiClient:
    """A VC-API client: OAuth 2.0 client credentials, then ``POST /credentials/issue``."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.http = Http(base_url)
        reply = self.http.request(
            "POST",
            "/oauth/token",
            body=urlencode({"grant_type": "client_credentials", "scope": "issue"}).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": "Basic "
                + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode(),
            },
        )
        assert reply.status == 200, reply.text
        self.token = str(reply.json()["access_token"])

    def issue_request(self, headers: dict[str, str] | None = None, **changes: Any) -> Reply:
        return self.http.post_json(
            "/credentials/issue",
            {"credential": unsigned_badge(**changes)},
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
        )

    def issue(self, **changes: Any) -> dict[str, Any]:
        reply = self.issue_request(**changes)
        assert reply.status == 201, reply.text
        return dict(reply.json()["verifiableCredential"])


def verify_reply(http: Http, credential: dict[str, Any]) -> tuple[int, set[str]]:
    """``POST /credentials/verify``: the status and the names of the checks that did not pass."""
    reply = http.post_json("/credentials/verify", {"verifiableCredential": credential})
    assert reply.status in (200, 422), reply.text
    body = reply.json()
    return reply.status, {c["name"] for c in body["checks"] if c["status"] in ("failed", "unknown")}


def csrf_token(page: str) -> str:
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    assert match, "no CSRF token on the page"
    value = re.search(r'value="([^"]+)"', match.group(0))
    assert value
    return value.group(1)


class AdminSession:
    """An issuer administrator signed in through ``/sign-in`` (session cookie, CSRF tokens),
    revoking through the same form a person uses (``/admin/credentials/<id>/revoke``)."""

    def __init__(self, base_url: str, email: str, password: str) -> None:
        self.http = Http(base_url)
        page = self.http.get("/sign-in")
        assert page.status == 200, page.text
        reply = self.http.post_form(
            "/sign-in",
            {"csrf_token": csrf_token(page.text), "email": email, "password": password},
        )
        assert reply.status == 303, reply.text
        page = self.http.get("/admin/credentials")
        assert page.status == 200, page.text
        self.csrf = csrf_token(page.text)

    def revoke_request(self, public_id: str, reason: str = "Awarded in error") -> Reply:
        return self.http.post_form(
            f"/admin/credentials/{public_id}/revoke",
            {"csrf_token": self.csrf, "reason": reason, "confirm": "y"},
        )

    def revoke(self, public_id: str) -> int:
        """303 revoked, 409 refused (already revoked); anything else fails the test."""
        reply = self.revoke_request(public_id)
        assert reply.status in (303, 409), f"{reply.status}: {reply.text[:2000]}"
        return reply.status


# -- the server ---------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """Pids of the live children of ``pid`` (from /proc: parent pid and state)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Server:
    """One gunicorn master and its workers, in a process group of their own."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    workers: int
    #: ``application_name`` of its database connections (PostgreSQL), to find its backends.
    application_name: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        """The end of the server's stderr (gunicorn's log and any traceback)."""
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        return _children(self.pid)

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no handler runs, nothing is flushed."""
        pids = [self.pid, *self.worker_pids()]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(WAIT_TIMEOUT)
        wait_until("the killed workers to be gone", lambda: not any(alive(p) for p in pids))

    def stop(self) -> None:
        """End the master and its workers (SIGKILL to the group) and reap the master.

        No graceful shutdown: the test has checked what it needs by then (and these tests
        show that SIGKILL loses nothing), while a worker's interpreter can take seconds to
        finalize on a busy machine.
        """
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(WAIT_TIMEOUT)


class Gunicorn:
    """Starts ``gunicorn --workers N 'wsgi:create_app()'`` on the test's database; every server
    it started is stopped (its whole process group) when the test ends."""

    def __init__(self, app: Any, database_url: str, tmp_path: Path) -> None:
        self.app = app
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.servers: list[Server] = []
        self.secret_key = secrets.token_urlsafe(32)

    def environment(self, application_name: str) -> dict[str, str]:
        url = self.database_url
        if url.startswith("postgresql"):
            url += ("&" if "?" in url else "?") + f"application_name={application_name}"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CREDFOLIO_")}
        environ.update(
            CREDFOLIO_DATABASE_URL=url,
            CREDFOLIO_KEY_ENCRYPTION_SECRET=TEST_KEK,
            CREDFOLIO_SECRET_KEY=self.secret_key,  # shared by every worker: one session cookie
            # The same public URL (so the same issuer did:web) as the test's own app object.
            CREDFOLIO_PUBLIC_URL=self.app.config["CREDFOLIO_PUBLIC_URL"],
            CREDFOLIO_RATELIMIT_ENABLED="false",
            CREDFOLIO_INSTANCE_PATH=str(self.tmp_path / "server-instance"),
            PYTHONUNBUFFERED="1",
        )
        return environ

    def start(self, workers: int = 4) -> Server:
        """A running server: listening, answering, with all its workers forked."""
        number = len(self.servers) + 1
        application_name = f"credfolio-durability-{os.getpid()}-{number}"
        # The test binds the port itself and hands the socket over (``fd://``): no window in
        # which another process could take a port found free.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        log_path = self.tmp_path / f"gunicorn-{number}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(GUNICORN),
                    "--workers",
                    str(workers),
                    "--bind",
                    f"fd://{listener.fileno()}",
                    "--graceful-timeout",
                    "5",
                    # A worker that boots or waits slowly on a loaded CI machine is not killed
                    # for it (the tests kill workers themselves, on purpose).
                    "--timeout",
                    "120",
                    # No control socket (~/.gunicorn/gunicorn.ctl): one per user would be shared
                    # by every server of the run.
                    "--no-control-socket",
                    "wsgi:create_app()",
                ],
                cwd=ROOT,
                env=self.environment(application_name),
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
                start_new_session=True,  # its own process group: killed as one in teardown
            )
        listener.close()
        server = Server(process, f"http://127.0.0.1:{port}", log_path, workers, application_name)
        self.servers.append(server)
        self._wait_ready(server)
        return server

    def _wait_ready(self, server: Server) -> None:
        http = Http(server.base_url)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if server.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {server.process.returncode}:\n{server.log()}")
            with contextlib.suppress(OSError):
                reply = http.get("/api/openapi.json")
                if reply.status == 200 and len(server.worker_pids()) == server.workers:
                    return
                if reply.status >= 500:
                    pytest.fail(f"gunicorn answers {reply.status}:\n{server.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn not ready after {READY_TIMEOUT:.0f} s:\n{server.log()}")
            time.sleep(0.1)

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def gunicorn(app: Any, database_url: str, tmp_path: Path) -> Iterator[Gunicorn]:
    """Start servers with ``gunicorn.start(workers=N)``.  Their logs are printed at teardown:
    pytest shows them with the report of a failing test (and hides them otherwise)."""
    factory = Gunicorn(app, database_url, tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()
        for number, server in enumerate(factory.servers, 1):
            print(f"--- gunicorn {number} ({server.base_url}) ---\n{server.log()}")


# -- the world the servers serve ------------------------------------------------------------------


@dataclass
class World:
    """An issuer with its key, a VC-API client and an administrator, committed to the database
    the servers share."""

    issuer_did: str
    client_id: str
    client_secret: str
    admin_password: str


@pytest.fixture
def world(app: Any, issuer: Any, runner: Any) -> World:
    from tests.portfolio.school import PASSWORD, person

    result = runner.invoke(args=["clients", "create", "--name", "Durability", "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    admin = person(issuer, "admin", "Ada Admin")
    assert admin.email == ADMIN_EMAIL
    return World(issuer.did, created["client_id"], created["client_secret"], PASSWORD)


# -- PostgreSQL -------------------------------------------------------------------------------


@dataclass
class Postgres:
    """Connections of the test's own to the database under test (psycopg, outside the app):
    ``connect()`` for holding locks, and one autocommit connection that watches
    ``pg_stat_activity`` (each query its own transaction, so each sees the present)."""

    conninfo: str
    opened: list[Any] = field(default_factory=list)
    _monitor: Any = None

    def connect(self, *, autocommit: bool = False) -> Any:
        import psycopg

        connection = psycopg.connect(self.conninfo, autocommit=autocommit)
        self.opened.append(connection)
        return connection

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self._monitor is None:
            self._monitor = self.connect(autocommit=True)
        return list(self._monitor.execute(sql, params).fetchall())

    def waiting_backends(self, application_name: str) -> list[tuple[int, str]]:
        """(pid, query) of the server's backends that wait for a lock."""
        rows = self._query(
            "SELECT pid, query FROM pg_stat_activity WHERE application_name = %s"
            " AND wait_event_type = 'Lock' AND datname = current_database()",
            application_name,
        )
        return [(int(pid), str(query).lstrip()) for pid, query in rows]

    def backends(self, application_name: str) -> list[int]:
        """Pids of the server's backends, whatever their state."""
        rows = self._query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", application_name
        )
        return [int(pid) for (pid,) in rows]

    def backend_alive(self, pid: int) -> bool:
        return bool(self._query("SELECT 1 FROM pg_stat_activity WHERE pid = %s", pid))

    def wait_for_lock_wait(self, application_name: str, statement: str) -> int:
        """Wait until a backend of the server waits for a lock while running ``statement``
        (a prefix, e.g. ``INSERT INTO credential_events``); its pid."""

        def waiting() -> int | None:
            for pid, query in self.waiting_backends(application_name):
                if query.startswith(statement):
                    return pid
            return None

        return int(wait_until(f"a backend waiting in {statement!r}", waiting))

    def close(self) -> None:
        for connection in self.opened:
            with contextlib.suppress(Exception):
                connection.close()


NEEDS_POSTGRES = (
    "needs PostgreSQL (CREDFOLIO_DATABASE_URL): the test holds locks in its own connection and "
    "watches pg_stat_activity"
)


@pytest.fixture
def postgres(database_url: str, request: pytest.FixtureRequest) -> Iterator[Postgres]:
    """The test's own connections; skips the test unless the database is PostgreSQL (with the
    reason given as ``@pytest.mark.postgres(reason=...)``, if any)."""
    if not database_url.startswith("postgresql"):
        marker = request.node.get_closest_marker("postgres")
        pytest.skip(marker.kwargs.get("reason", NEEDS_POSTGRES) if marker else NEEDS_POSTGRES)
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql")
    pg = Postgres(url.render_as_string(hide_password=False))
    try:
        yield pg
    finally:
        pg.close()


# -- invariants -------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What the database holds after a run, summarised for the assertions."""

    credentials: dict[str, Any]  # public id → IssuedCredential
    revoked: set[str]
    events: Counter[tuple[str, str]]  # (public id, action) → count


def set_bits(data: bytes) -> set[int]:
    """The positions of the 1 bits of a bitstring (Bitstring Status List §3.1: position 0 is
    the most significant bit of the first byte)."""
    return {
        offset * 8 + bit
        for offset, value in enumerate(data)
        if value
        for bit in range(8)
        if value & (0x80 >> bit)
    }


def check_invariants(app: Any, base_url: str | None) -> Snapshot:
    """Check everything that must hold whatever happened to the workers; return a snapshot.

    * every (list, index) is given to one credential only, and each credential's revocation and
      suspension positions are two distinct positions in lists of the right purpose;
    * each signed document names exactly the positions its row records;
    * every list's allocation bitmap (and its count) is exactly the set of positions given out;
    * every list's status bits are exactly its revoked (suspended) credentials, and the signed
      list served at ``/status/<id>`` (by the server at ``base_url``, when given) carries those
      bits and verifies;
    * one ``issued`` event per credential, one ``revoked`` event per revoked credential.
    """
    from sqlalchemy import select

    from credentials.status import StatusList
    from portfolio.core.db import db
    from portfolio.issuing.models import CredentialEvent, IssuedCredential, StatusListRow

    db.session.rollback()
    db.session.expire_all()
    rows = list(db.session.scalars(select(IssuedCredential)))
    lists = {row.id: row for row in db.session.scalars(select(StatusListRow))}

    given: dict[int, list[int]] = {list_id: [] for list_id in lists}
    for row in rows:
        positions = [
            (row.revocation_list_id, row.revocation_index, "revocation"),
            (row.suspension_list_id, row.suspension_index, "suspension"),
        ]
        for list_id, index, purpose in positions:
            assert list_id in lists and index is not None, row.public_id
            assert lists[list_id].purpose == purpose
            given[list_id].append(index)
        document = json.loads(row.document)
        entries = {
            (e["statusPurpose"], e["statusListCredential"], int(e["statusListIndex"]))
            for e in document["credentialStatus"]
        }
        public_url = app.config["CREDFOLIO_PUBLIC_URL"].rstrip("/")
        assert entries == {
            (p, f"{public_url}/status/{lists[i].public_id}", n) for i, n, p in positions
        }

    for list_id, indexes in given.items():
        row = lists[list_id]
        assert len(indexes) == len(set(indexes)), f"a position of list {row.public_id} reused"
        assert set_bits(row.allocated) == set(indexes)
        assert row.allocated_count == len(indexes)
        if row.purpose == "revocation":
            expected = {
                r.revocation_index for r in rows if r.revocation_list_id == list_id and r.revoked_at
            }
        else:
            expected = {
                r.suspension_index
                for r in rows
                if r.suspension_list_id == list_id and r.suspended_at
            }
        assert set_bits(row.bits) == expected
        if base_url is None:
            continue
        # What verifiers read: the signed list the server publishes.
        http = Http(base_url)
        reply = http.get(f"/status/{row.public_id}")
        assert reply.status == 200, reply.text
        published = reply.json()
        encoded = published["credentialSubject"]["encodedList"]
        assert StatusList.decode(encoded).to_bytes() == bytes(row.bits)
        status, failing = verify_reply(http, published)
        assert (status, failing) == (200, set()), failing

    events = Counter(
        (public_id, action)
        for public_id, action in db.session.execute(
            select(IssuedCredential.public_id, CredentialEvent.action).join(
                IssuedCredential, IssuedCredential.id == CredentialEvent.credential_id
            )
        )
    )
    revoked = {r.public_id for r in rows if r.revoked_at is not None}
    for row in rows:
        assert events[(row.public_id, "issued")] == 1, row.public_id
        assert events[(row.public_id, "revoked")] == (1 if row.public_id in revoked else 0)
    return Snapshot({r.public_id: r for r in rows}, revoked, events)
