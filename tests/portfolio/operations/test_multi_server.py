"""Two servers, one deployment (issue 18, "Done when"): separate instance folders, one gunicorn
worker each, sharing PostgreSQL, an S3 store (moto) and Redis, both started with ``--migrate``
at the same moment.  Both come up; a revocation made on one shows at once on the other's page
and status list; a student's upload through one is served by the other; a third server with
another session secret refuses to start.  Every step is the one docs/deploy.md gives."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credentials.status import StatusList
from tests.conftest import TEST_KEK
from tests.durability.conftest import AdminSession, ApiClient, Http, csrf_token, public_id_of
from tests.portfolio.files.test_storage import CREDENTIALS, run_moto
from tests.serving import CREDFOLIO, Reply, free_port

pytestmark = pytest.mark.skipif(
    not os.environ.get("CREDFOLIO_DATABASE_URL", "").startswith("postgresql"),
    reason="a multi-server deployment shares PostgreSQL: run with CREDFOLIO_DATABASE_URL set",
)

START_DEADLINE = 90.0
PUBLIC_URL = "https://credentials.school.test"
ADMIN, STUDENT, PASSWORD = "admin@school.test", "sam@school.test", "a long enough password 1"
DRAWING = Path(__file__).parents[2] / "assets" / "uploads" / "drawing.png"


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    yield from run_moto()


def shared_environment(tmp_path: Path, database: str, s3_endpoint: str) -> dict[str, str]:
    """The environment file every server shares (docs/deploy.md), minus the instance folder."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CREDFOLIO_")}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    environment.update(
        CREDFOLIO_DATABASE_URL=database,
        CREDFOLIO_KEY_ENCRYPTION_SECRET=TEST_KEK,
        CREDFOLIO_SECRET_KEY=secrets.token_urlsafe(32),
        CREDFOLIO_PUBLIC_URL=PUBLIC_URL,
        CREDFOLIO_STORAGE="s3",
        CREDFOLIO_S3_BUCKET="credfolio-evidence",
        CREDFOLIO_S3_ENDPOINT_URL=s3_endpoint,
        CREDFOLIO_S3_REGION="us-east-1",
        AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
        CREDFOLIO_RATELIMIT_STORAGE_URL="redis://127.0.0.1:6379/0",
        CREDFOLIO_RATELIMIT_KEY_PREFIX=f"credfolio-test-{uuid.uuid4().hex}",
        CREDFOLIO_RATELIMIT_ENABLED="false",
        TMPDIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    return environment


class Started:
    SERVE = (CREDFOLIO, "serve")

    def __init__(self, tmp_path: Path, name: str, environment: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"{name}.log"
        self.environment = {
            **environment,
            "CREDFOLIO_INSTANCE_PATH": str(tmp_path / f"instance-{name}"),
        }
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [*self.SERVE, "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--migrate"],
                env=self.environment,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
        self.http = Http(self.url)

    def up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"a server exited:\n{self.log.read_text()}")
        try:
            return self.http.get("/healthz").status == 200
        except OSError:
            return False

    def command(self, *arguments: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [CREDFOLIO, *arguments],
            env=self.environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def two_servers(tmp_path: Path, empty_database: str, s3_endpoint: str) -> Iterator[list[Started]]:
    environment = shared_environment(tmp_path, empty_database, s3_endpoint)
    servers = [Started(tmp_path, name, environment) for name in ("a", "b")]  # the same moment
    try:
        deadline = time.monotonic() + START_DEADLINE
        while not all(server.up() for server in servers):
            assert time.monotonic() < deadline, "\n".join(s.log.read_text() for s in servers)
            time.sleep(0.2)
        yield servers
    finally:
        for server in servers:
            server.stop()


def upload(http: Http, evidence_page: str, path: str) -> Reply:
    """The upload form of an evidence page, sent as a browser sends it (multipart)."""
    boundary = f"----credfolio{uuid.uuid4().hex}"
    fields = {"csrf_token": csrf_token(evidence_page), "file_title": "My drawing"}
    body = b""
    for name, value in fields.items():
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    body += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="drawing.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + DRAWING.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return http.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


def sign_in(http: Http, email: str) -> None:
    page = http.get("/sign-in")
    reply = http.post_form(
        "/sign-in", {"csrf_token": csrf_token(page.text), "email": email, "password": PASSWORD}
    )
    assert reply.status == 303, reply.text


def status_bit(http: Http, credential: dict[str, Any]) -> bool:
    [entry] = (
        credential["credentialStatus"]
        if isinstance(credential["credentialStatus"], list)
        else [credential["credentialStatus"]]
    )
    path = entry["statusListCredential"].removeprefix(PUBLIC_URL)
    reply = http.get(path)
    assert reply.status == 200, reply.text
    encoded = reply.json()["credentialSubject"]["encodedList"]
    return StatusList.decode(encoded).get(int(entry["statusListIndex"]))


def test_two_servers_are_one_service(tmp_path: Path, two_servers: list[Started]) -> None:
    first, second = two_servers
    # The first start, as docs/deploy.md lists it: store, key, administrator, a client.
    assert "The evidence store is ready." in first.command("storage", "init")
    first.command("keys", "create")
    for email, role in ((ADMIN, "admin"), (STUDENT, "student")):
        first.command(
            "users",
            "create",
            "--email",
            email,
            "--role",
            role,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    client = json.loads(first.command("clients", "create", "--name", "registrar", "--json"))
    for server in (first, second):
        assert server.http.get("/readyz").status == 200, server.http.get("/readyz").text

    # Issued through one, revoked through the other: both pages and status lists agree at once.
    credential = ApiClient(first.url, client["client_id"], client["client_secret"]).issue()
    page = f"/c/{public_id_of(credential)}"
    assert "has been revoked" not in second.http.get(page).text
    assert status_bit(first.http, credential) is False
    assert AdminSession(second.url, ADMIN, PASSWORD).revoke(public_id_of(credential)) == 303
    assert "Revoked by the issuer" in first.http.get(page).text
    assert status_bit(first.http, credential) is True
    assert status_bit(second.http, credential) is True

    # A student's upload through one is served by the other, to the same session.
    sign_in(first.http, STUDENT)
    new = first.http.get("/evidence/new")
    created = first.http.post_form(
        "/evidence/new", {"csrf_token": csrf_token(new.text), "title": "Drawings", "narrative": ""}
    )
    assert created.status == 303, created.text
    evidence_path = created.headers["Location"].removeprefix(first.url)
    evidence_page = first.http.get(evidence_path)
    uploaded = upload(first.http, evidence_page.text, f"{evidence_path}/artefacts/file")
    assert uploaded.status == 303, uploaded.text
    links = re.findall(r'(?:href|src)="(/artefacts/[^"/?]+)"', first.http.get(evidence_path).text)
    assert links, "the evidence page links no artefact"
    artefact_link = links[0]
    second.http.cookies = dict(first.http.cookies)  # the same session cookie, the other server
    served = second.http.get(artefact_link)
    assert served.status == 200, served.text[:500]
    assert served.body == DRAWING.read_bytes()

    # A third server given another session secret refuses to start, in one line.
    refused = subprocess.run(
        [CREDFOLIO, "serve", "--bind", f"127.0.0.1:{free_port()}", "--workers", "1", "--migrate"],
        env={
            **first.environment,
            "CREDFOLIO_SECRET_KEY": secrets.token_urlsafe(32),
            "CREDFOLIO_INSTANCE_PATH": str(tmp_path / "instance-c"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode != 0
    assert "cannot start: CREDFOLIO_SECRET_KEY differs" in refused.stderr
    assert "Traceback" not in refused.stderr
