"""Scale benchmark: does the cost of a request grow with the number of issued credentials?

Loads issued credentials in bulk (COPY) into two dedicated PostgreSQL databases, one with
``--small`` (1,000) and one with ``--size`` (1,000,000), then measures on both, interleaved round
by round (the machine is shared: load spikes then hit both sizes alike), through the app
(in-process, Flask test client) the public credential page, ``POST /credentials/verify`` of a real
signed credential (status-list check included), revocation through the service (flip a bit and
re-sign the list), the status-list fetch and issuing through the service; then the resident
memory (VmRSS) of gunicorn workers after warm-up requests.  Prints median and p99 per operation
and the ratio large/small.  Numbers are printed, never asserted.

    python3 bench/scale.py                 # 1,000 and 1,000,000 credentials
    python3 bench/scale.py --size 20000    # a quick run
    python3 bench/scale.py --json results.json

Rows: a few credentials are issued and signed through the service (``real-signed``); the rest
are generated from one of them by a fast template — distinct ids, subjects, validFrom, their own
status-list positions — and keep the template's proof, which is therefore not valid for them.
Every measured verification uses a real-signed credential.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/credfolio_bench_scale"
# (the databases are <name>_<size>: credfolio_bench_scale_1000 and ..._1000000)
EXAMPLE = ROOT / "tests" / "assets" / "ob3" / "examples" / "basicOpenBadgeCredential.json"
REAL_SIGNED_AT_START = 20
REVOKED_SHARE = 0.01  # of the generated rows, revoked at load time (realistic status lists)
CHUNK = 20_000
ACHIEVEMENTS = 50


class Failed(RuntimeError):
    """An operation did not do what it should (the benchmark stops: its figures would lie)."""


# -- the database ---------------------------------------------------------------------------------


def libpq_url(url: str, database: str | None = None) -> str:
    """A psycopg (libpq) connection string from a SQLAlchemy URL."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def database_url_for(url: str, size: int) -> str:
    """The database of one size: ``<name>_<size>`` on the server of ``url``."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{size}").render_as_string(hide_password=False)


@contextmanager
def dedicated_databases(urls: list[str], *, keep: bool) -> Iterator[None]:
    """Create the benchmark's own databases (refusing existing ones); drop them at the end."""
    names = [make_url(url).database or "" for url in urls]
    admin = libpq_url(urls[0], "postgres")
    created: list[str] = []
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    raise SystemExit(
                        f"the database {name!r} exists already: drop it or name another with "
                        "--database-url (this benchmark only uses databases of its own)"
                    )
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                created.append(name)
        yield
    finally:
        if keep:
            print(f"Kept the databases {created} (--keep).")
        elif created:
            with psycopg.connect(admin, autocommit=True) as conn:
                for name in created:
                    conn.execute(
                        sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
                    )


def copy_text(value: Any) -> str:
    """One field in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def copy_line(values: tuple[Any, ...]) -> str:
    return "\t".join(copy_text(v) for v in values) + "\n"


# -- the app --------------------------------------------------------------------------------------


@dataclass
class Instance:
    """The app under test and what the benchmark keeps about it."""

    url: str
    public_url: str
    instance_path: Path
    kek: str
    secret_key: str
    app: Any = None
    issuer_id: int = 0
    real_ids: list[str] = field(default_factory=list)  # public ids of real-signed credentials
    admin_id: int = 0

    def environ(self) -> dict[str, str]:
        return {
            "CREDFOLIO_DATABASE_URL": self.url,
            "CREDFOLIO_PUBLIC_URL": self.public_url,
            "CREDFOLIO_INSTANCE_PATH": str(self.instance_path),
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": self.kek,
            "CREDFOLIO_SECRET_KEY": self.secret_key,
            "CREDFOLIO_RATELIMIT_ENABLED": "false",
        }

    def create_app(self) -> Any:
        from wsgi import create_app

        self.app = create_app(
            {
                "INSTANCE_PATH": str(self.instance_path),
                "SQLALCHEMY_DATABASE_URI": self.url,
                "CREDFOLIO_PUBLIC_URL": self.public_url,
                "CREDFOLIO_KEY_ENCRYPTION_SECRET": self.kek,
                "CREDFOLIO_SECRET_KEY": self.secret_key,
                "CREDFOLIO_RATELIMIT_ENABLED": False,
            }
        )
        return self.app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue_request(number: int) -> dict[str, Any]:
    """An unsigned credential to issue: the basic OB 3.0 example for one learner."""
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for name in ("proof", "issuer", "id", "credentialStatus"):
        document.pop(name, None)
    document["credentialSubject"]["id"] = f"did:example:learner-real-{number}"
    return document


def set_up(instance: Instance) -> None:
    """Migrations (as ``credfolio db upgrade``), the issuer and its key, real-signed credentials."""
    from flask_migrate import upgrade

    from portfolio.accounts.issuers import default_issuer
    from portfolio.issuing import status_options
    from wsgi import MIGRATIONS

    app = instance.app
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        issuer = default_issuer()
        # The bulk rows stand for credentials issued with both status entries (revocation and
        # suspension), as every credential was before suspension became an issuer's option:
        # the real-signed ones carry both too, so every list holds one position per credential.
        status_options.set_suspension(issuer, True, actor="bench")
        app.extensions["credfolio"].key_store.create(issuer.did)
        instance.issuer_id = issuer.id
    instance.admin_id = add_admin(instance)
    issue_real(instance, REAL_SIGNED_AT_START)


def issue_real(instance: Instance, count: int) -> None:
    from portfolio.accounts.models import Issuer
    from portfolio.core.db import db
    from portfolio.issuing import service as services

    with instance.app.app_context():
        issuer = db.session.get(Issuer, instance.issuer_id)
        for _ in range(count):
            row = services.issue(issue_request(len(instance.real_ids)), issuer=issuer)
            instance.real_ids.append(row.public_id)


# -- bulk loading ---------------------------------------------------------------------------------


class Positions:
    """Free status-list positions of one purpose, handed out in random order; opens a new list
    (created and signed by the service) when the open one is full."""

    def __init__(self, instance: Instance, purpose: str) -> None:
        self.instance = instance
        self.purpose = purpose
        self.lists: dict[int, dict[str, Any]] = {}  # list id -> allocated, bits, count, size
        self.current: int | None = None
        self.free: list[int] = []
        self._open_next()

    def _open_next(self) -> None:
        from portfolio.accounts.models import Issuer
        from portfolio.core.db import begin_write, db
        from portfolio.issuing import service as services
        from portfolio.issuing.models import StatusListRow

        with self.instance.app.app_context():
            row = db.session.scalar(
                select(StatusListRow)
                .where(
                    StatusListRow.issuer_id == self.instance.issuer_id,
                    StatusListRow.purpose == self.purpose,
                    StatusListRow.full.is_(False),
                    StatusListRow.id.not_in(list(self.lists)) if self.lists else text("true"),
                )
                .order_by(StatusListRow.id)
                .limit(1)
            )
            if row is None:
                begin_write()
                issuer = db.session.get(Issuer, self.instance.issuer_id)
                # The service's own constructor: a real, signed, empty list.
                row = services.new_status_list(
                    services.ServiceConfig.current(), issuer, self.purpose
                )
                db.session.commit()
            state = {
                "public_id": row.public_id,
                "allocated": bytearray(row.allocated),
                "bits": bytearray(row.bits),
                "count": row.allocated_count,
                "size": row.size,
                "bits_changed": False,
            }
            self.lists[row.id] = state
            self.current = row.id
        allocated = state["allocated"]
        self.free = [i for i in range(state["size"]) if not allocated[i // 8] & (0x80 >> (i % 8))]
        random.shuffle(self.free)

    def take(self) -> tuple[int, int, str]:
        """(list id, index, list public id) of a position nobody has."""
        if not self.free:
            self._open_next()
        state = self.lists[self.current or 0]
        index = self.free.pop()
        state["allocated"][index // 8] |= 0x80 >> (index % 8)
        state["count"] += 1
        return self.current, index, state["public_id"]

    def set_bit(self, list_id: int, index: int) -> None:
        state = self.lists[list_id]
        state["bits"][index // 8] |= 0x80 >> (index % 8)
        state["bits_changed"] = True


def template_document(instance: Instance) -> dict[str, Any]:
    from portfolio.core.db import db
    from portfolio.issuing.models import IssuedCredential

    with instance.app.app_context():
        row = db.session.scalar(
            select(IssuedCredential).where(IssuedCredential.public_id == instance.real_ids[0])
        )
        if row is None:
            raise Failed("the template credential is missing")
        return dict(json.loads(row.document))


def grow(instance: Instance, target: int) -> float:
    """Bulk-load generated credentials until the table holds ``target``; return the seconds."""
    from portfolio.core.db import db
    from portfolio.issuing import service as services
    from portfolio.issuing.models import IssuedCredential, StatusListRow

    with instance.app.app_context():
        existing = db.session.scalar(select(func.count()).select_from(IssuedCredential)) or 0
        next_id = (db.session.scalar(select(func.max(IssuedCredential.id))) or 0) + 1
    need = target - existing
    if need <= 0:
        return 0.0
    started = time.perf_counter()
    template = template_document(instance)
    revocation, suspension = Positions(instance, "revocation"), Positions(instance, "suspension")
    subject = template["credentialSubject"]
    achievements = [
        {
            **subject["achievement"],
            "id": f"{instance.public_url}/achievements/bench-{k}",
            "name": f"Competency {k}",
        }
        for k in range(ACHIEVEMENTS)
    ]
    base_time = datetime.now(UTC) - timedelta(days=365 * 3)
    rng = random.Random(target)  # noqa: S311 (sampling rows, not secrets)
    credential_columns = (
        "id, public_id, credential_id, issuer_id, document, subject_id, recipient_name, "
        "achievement_id, achievement_name, issued_at, valid_from, revocation_list_id, "
        "revocation_index, suspension_list_id, suspension_index, revoked_at, revocation_reason, "
        "hidden_by_recipient"
    )
    with (
        psycopg.connect(libpq_url(instance.url)) as conn,
        Progress(
            TextColumn(f"loading to {target:,}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ) as progress,
    ):
        task = progress.add_task("load", total=need)
        done = 0
        while done < need:
            count = min(CHUNK, need - done)
            credentials, events, audits = [], [], []
            for _ in range(count):
                number = next_id
                next_id += 1
                public_id = str(uuid.uuid4())
                credential_id = f"{instance.public_url}/c/{public_id}"
                moment = base_time + timedelta(seconds=number * 60)
                r_list, r_index, r_public = revocation.take()
                s_list, s_index, s_public = suspension.take()
                achievement = achievements[number % ACHIEVEMENTS]
                document = dict(template)
                document["id"] = credential_id
                document["validFrom"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
                document["credentialSubject"] = {
                    **subject,
                    "id": f"did:example:learner-{number}",
                    "achievement": achievement,
                }
                document["credentialStatus"] = [
                    _entry(instance, r_public, r_index, "revocation"),
                    _entry(instance, s_public, s_index, "suspension"),
                ]
                revoked = rng.random() < REVOKED_SHARE
                if revoked:
                    revocation.set_bit(r_list, r_index)
                credentials.append(
                    copy_line(
                        (
                            number,
                            public_id,
                            credential_id,
                            instance.issuer_id,
                            json.dumps(document, ensure_ascii=False),
                            document["credentialSubject"]["id"],
                            None,
                            achievement["id"],
                            achievement["name"],
                            moment,
                            moment,
                            r_list,
                            r_index,
                            s_list,
                            s_index,
                            moment + timedelta(days=30) if revoked else None,
                            "bulk-loaded as revoked" if revoked else None,
                            False,
                        )
                    )
                )
                events.append(copy_line((number, "issued", "service", moment)))
                audits.append(
                    copy_line(
                        (
                            moment,
                            "credential_issued",
                            "service",
                            instance.issuer_id,
                            f"credential:{public_id}",
                            json.dumps({"achievement": achievement["name"]}),
                        )
                    )
                )
            with conn.cursor() as cur:
                with cur.copy(f"COPY issued_credentials ({credential_columns}) FROM STDIN") as cp:
                    cp.write("".join(credentials))
                with cur.copy(
                    "COPY credential_events (credential_id, action, actor, at) FROM STDIN"
                ) as cp:
                    cp.write("".join(events))
                with cur.copy(
                    "COPY audit_events (at, action, actor_label, issuer_id, target, detail) "
                    "FROM STDIN"
                ) as cp:
                    cp.write("".join(audits))
            done += count
            progress.update(task, advance=count)
            if not progress.console.is_terminal and ((done // CHUNK) % 10 == 0 or done == need):
                # Not a terminal (a log file): a plain line now and then instead of a bar.
                rate = done / (time.perf_counter() - started)
                print(f"  {done:,} / {need:,} rows ({rate:,.0f} rows/s)", flush=True)
        # The lists' allocation bitmaps and bits, in the same transaction as the rows.
        with conn.cursor() as cur:
            for positions in (revocation, suspension):
                for list_id, state in positions.lists.items():
                    cur.execute(
                        "UPDATE status_lists SET allocated = %s, allocated_count = %s, "
                        '"full" = %s, bits = %s WHERE id = %s',
                        (
                            bytes(state["allocated"]),
                            state["count"],
                            state["count"] >= state["size"],
                            bytes(state["bits"]),
                            list_id,
                        ),
                    )
            for table in ("issued_credentials", "credential_events", "audit_events"):
                cur.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}"
                    ).format(sql.Literal(table), sql.Identifier(table))
                )
        conn.commit()
    # Lists whose bits changed are re-signed by the service (as a revocation would).
    with instance.app.app_context():
        for list_id, state in revocation.lists.items():
            if state["bits_changed"]:
                row = db.session.get(StatusListRow, list_id)
                services.resign_status_list(row)
        db.session.commit()
    with psycopg.connect(libpq_url(instance.url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _entry(instance: Instance, list_public_id: str, index: int, purpose: str) -> dict[str, Any]:
    url = f"{instance.public_url}/status/{list_public_id}"
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


# -- measuring ------------------------------------------------------------------------------------


class Counter:
    """SQL statements and COMMITs and the time spent in them, counted by SQLAlchemy events:
    what may grow with the number of rows is the database's share; the rest of a request (JSON,
    canonicalization, signatures, templates) does not depend on it."""

    active: Counter | None = None  # the counter of the operation being timed

    def __init__(self) -> None:
        self.reset()

    def install(self, engine: Any) -> None:
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._before_commit)
        if not event.contains(Session, "after_commit", _after_commit):
            event.listen(Session, "after_commit", _after_commit)

    def _before(self, *_args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *_args: Any) -> None:
        self.statements += 1
        self.seconds += time.perf_counter() - self._started.pop()

    def _before_commit(self, *_args: Any) -> None:
        self._commit_started = time.perf_counter()

    def committed(self) -> None:
        if self._commit_started is not None:
            elapsed = time.perf_counter() - self._commit_started
            self.commits += 1
            self.commit_seconds += elapsed
            self.seconds += elapsed
            self._commit_started = None

    def reset(self) -> None:
        self.statements, self.seconds, self._started = 0, 0.0, []
        self.commits, self.commit_seconds = 0, 0.0
        self._commit_started: float | None = None


def _after_commit(_session: Any) -> None:
    if Counter.active is not None:
        Counter.active.committed()


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def summary(
    wall: list[float], db: list[float], statements: list[int], commits: list[float]
) -> dict[str, float]:
    return {
        "median_ms": statistics.median(wall),
        "p99_ms": percentile(wall, 99),
        "db_median_ms": statistics.median(db),
        "db_p99_ms": percentile(db, 99),
        "commit_median_ms": statistics.median(commits),
        "statements": statistics.median(statements),
        "rounds": len(wall),
    }


def add_admin(instance: Instance) -> int:
    """An issuer administrator (for the credentials list); returns the user id."""
    from portfolio.accounts.auth import hash_password
    from portfolio.accounts.models import User
    from portfolio.core.db import db

    with instance.app.app_context():
        user = User(
            email="bench-admin@example.org",
            password_hash=hash_password(secrets.token_urlsafe(24)),
            display_name="Benchmark administrator",
            role="admin",
            issuer_id=instance.issuer_id,
        )
        db.session.add(user)
        db.session.commit()
        return int(user.id)


def operations_for(
    instance: Instance, counter: Counter, count: int
) -> dict[str, Callable[[], None]]:
    """The measured operations on one instance (each checks that it did what it should);
    ``count`` is how many times each will run (credentials to revoke are picked up front)."""
    from portfolio.accounts.models import Issuer
    from portfolio.core.db import db
    from portfolio.issuing import service as services
    from portfolio.issuing.models import IssuedCredential, StatusListRow

    app = instance.app
    client = app.test_client()
    admin = app.test_client()
    with admin.session_transaction() as session:
        session["user_id"] = instance.admin_id
        session["session_version"] = 1
    rng = random.Random(count)  # noqa: S311 (sampling rows, not secrets)

    with app.app_context():
        counter.install(db.engine)
        documents = {
            public_id: json.loads(document)
            for public_id, document in db.session.execute(
                select(IssuedCredential.public_id, IssuedCredential.document).where(
                    IssuedCredential.public_id.in_(instance.real_ids)
                )
            )
        }
        lists = list(db.session.scalars(select(StatusListRow.public_id)))
        max_id = db.session.scalar(select(func.max(IssuedCredential.id))) or 0
        # Credentials to revoke: random ones across the whole table, not revoked yet.
        victims: list[str] = []
        while len(victims) < count:
            row = db.session.get(IssuedCredential, rng.randint(1, max_id))
            if (
                row is not None
                and row.revoked_at is None
                and row.public_id not in instance.real_ids
                and row.public_id not in victims
            ):
                victims.append(row.public_id)
        db.session.rollback()
    real_ids = list(instance.real_ids)

    def page() -> None:
        response = client.get(f"/c/{rng.choice(real_ids)}")
        if response.status_code != 200:
            raise Failed(f"credential page answered {response.status_code}")

    def verify() -> None:
        document = documents[rng.choice(real_ids)]
        response = client.post("/credentials/verify", json={"verifiableCredential": document})
        if response.status_code != 200 or response.json["verified"] is not True:
            raise Failed(f"verify answered {response.status_code}: {response.get_data()[:300]!r}")
        checks = {c["name"]: c["status"] for c in response.json["checks"]}
        if checks.get("revocation") != "passed":
            raise Failed(f"the revocation check did not run: {checks}")

    def status_list() -> None:
        response = client.get(f"/status/{rng.choice(lists)}")
        if response.status_code != 200:
            raise Failed(f"status list answered {response.status_code}")

    pending = iter(victims)

    def revoke() -> None:
        with app.app_context():
            row = services.find_credential(next(pending))
            if row is None:
                raise Failed("the credential to revoke is missing")
            services.set_status(row, "revoke", reason="scale benchmark", actor="cli")
            if row.revoked_at is None:
                raise Failed("not revoked")
            db.session.remove()

    def issue() -> None:
        with app.app_context():
            issuer = db.session.get(Issuer, instance.issuer_id)
            row = services.issue(issue_request(len(instance.real_ids)), issuer=issuer)
            instance.real_ids.append(row.public_id)
            db.session.remove()

    def admin_list() -> None:
        response = admin.get("/admin/credentials")
        if response.status_code != 200:
            raise Failed(f"the admin list answered {response.status_code}")

    def audit_log() -> None:
        response = admin.get("/admin/audit")
        if response.status_code != 200:
            raise Failed(f"the audit log answered {response.status_code}")

    return {
        "GET /c/<id> (page)": page,
        "POST /credentials/verify": verify,
        "GET /status/<id>": status_list,
        "revoke (service)": revoke,
        "issue (service)": issue,
        "GET /admin/credentials (page 1)": admin_list,
        "GET /admin/audit (page 1)": audit_log,
    }


def measure(
    instances: list[Instance], rounds: int, warmup: int
) -> list[dict[str, dict[str, float]]]:
    """Each operation ``rounds`` times on every instance, interleaved: one of each operation per
    round, on each instance in turn (alternating which goes first), so that the shared machine's
    load spikes hit every size alike; after ``warmup`` untimed rounds."""
    counters = [Counter() for _ in instances]
    operations = [
        operations_for(instance, counter, warmup + rounds)
        for instance, counter in zip(instances, counters, strict=True)
    ]
    samples: list[dict[str, tuple[list[float], list[float], list[int], list[float]]]] = [
        {name: ([], [], [], []) for name in ops} for ops in operations
    ]
    order = list(range(len(instances)))
    for round_number in range(warmup + rounds):
        for name in operations[0]:
            for which in order if round_number % 2 else order[::-1]:
                counter = counters[which]
                counter.reset()
                Counter.active = counter
                started = time.perf_counter()
                operations[which][name]()
                elapsed = time.perf_counter() - started
                Counter.active = None
                if round_number >= warmup:
                    wall, db_time, statements, commit_time = samples[which][name]
                    wall.append(elapsed * 1000)
                    db_time.append(counter.seconds * 1000)
                    statements.append(counter.statements)
                    commit_time.append(counter.commit_seconds * 1000)
    return [{name: summary(*values) for name, values in each.items()} for each in samples]


# -- memory per worker ----------------------------------------------------------------------------


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def worker_memory(instance: Instance, workers: int, warmup_requests: int) -> dict[str, Any]:
    """RSS of each gunicorn worker after ``warmup_requests`` of each kind (page, verify, status)."""
    from portfolio.core.db import db
    from portfolio.issuing.models import IssuedCredential, StatusListRow

    port = int(instance.public_url.rsplit(":", 1)[1])
    with instance.app.app_context():
        document = db.session.scalar(
            select(IssuedCredential.document).where(
                IssuedCredential.public_id == instance.real_ids[0]
            )
        )
        status_id = db.session.scalar(select(StatusListRow.public_id).limit(1))
        db.session.remove()
    body = json.dumps({"verifiableCredential": json.loads(document or "{}")})
    log = instance.instance_path.parent / f"gunicorn-{workers}.log"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "wsgi:create_app()",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--error-logfile",
            str(log),
        ],
        cwd=ROOT,
        env={**os.environ, **instance.environ()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(method: str, path: str, payload: str | None = None, timeout: float = 30) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
            return int(response.status)
        finally:
            connection.close()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("GET", "/.well-known/did.json", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text()[-2000:] if log.exists() else ""
                    raise Failed("gunicorn did not start: " + tail) from None
                time.sleep(0.2)
        for _ in range(warmup_requests):
            for method, path, payload in (
                ("GET", f"/c/{instance.real_ids[0]}", None),
                ("POST", "/credentials/verify", body),
                ("GET", f"/status/{status_id}", None),
            ):
                status = get(method, path, payload)
                if status != 200:
                    raise Failed(f"{method} {path} answered {status} under gunicorn")
        pids = children(server.pid)
        return {
            "workers_rss_mib": [round(vm_rss_kib(pid) / 1024, 1) for pid in pids],
            "master_rss_mib": round(vm_rss_kib(server.pid) / 1024, 1),
            "warmup_requests": warmup_requests * 3,
        }
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- the run --------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kib / 1048576, 1)}


def table_size(instance: Instance) -> str:
    with psycopg.connect(libpq_url(instance.url)) as conn:
        row = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('issued_credentials')), "
            "pg_size_pretty(pg_database_size(current_database())), "
            "(SELECT count(*) FROM status_lists)"
        ).fetchone()
    if row is None:
        return "sizes unknown"
    return f"issued_credentials {row[0]}, database {row[1]}, {row[2]} status lists"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="the large size")
    parser.add_argument("--small", type=int, default=1_000, help="the small size")
    parser.add_argument("--rounds", type=int, default=100, help="timed rounds per operation")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_URL),
        help="the server and name prefix of the benchmark's own databases, <name>_<size>, "
        f"created and dropped (env BENCH_SCALE_DATABASE_URL; default {DEFAULT_URL})",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for memory")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.small < args.size:
        parser.error("need 0 < --small < --size")
    if args.small < REAL_SIGNED_AT_START:
        parser.error(f"--small must be at least {REAL_SIGNED_AT_START}")

    info = machine()
    print(
        f"Credfolio scale benchmark: {args.small:,} and {args.size:,} issued credentials in "
        f"PostgreSQL; {info['cpus']} CPUs ({info['cpu']}), {info['memory_gib']} GiB"
    )
    print(
        f"Rows: {REAL_SIGNED_AT_START} real-signed through the service (+1 per issue round), "
        "the rest generated from a template (their proofs are copies, not valid for them); "
        f"{REVOKED_SHARE:.0%} of generated rows loaded as revoked. Rate limits off."
    )
    sizes = (args.small, args.size)
    urls = [database_url_for(args.database_url, size) for size in sizes]
    results: dict[str, Any] = {"machine": info, "sizes": {}}
    with (
        tempfile.TemporaryDirectory(prefix="credfolio-scale-") as tmp,
        dedicated_databases(urls, keep=args.keep),
    ):
        instances = [
            Instance(
                url=url,
                public_url=f"http://127.0.0.1:{free_port()}",
                instance_path=Path(tmp) / f"instance-{size}",
                kek=secrets.token_urlsafe(32),
                secret_key=secrets.token_urlsafe(48),
            )
            for size, url in zip(sizes, urls, strict=True)
        ]
        with psycopg.connect(libpq_url(urls[0])) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        info["postgresql"] = version[0] if version else "?"
        names = ", ".join(make_url(url).database or "" for url in urls)
        print(f"PostgreSQL {info['postgresql']}; databases {names}")
        try:
            for size, instance in zip(sizes, instances, strict=True):
                instance.create_app()
                set_up(instance)
                seconds = grow(instance, size)
                print(f"{size:,} credentials loaded in {seconds:.0f} s; {table_size(instance)}")
                results["sizes"][str(size)] = {"load_seconds": round(seconds, 1)}
            print(
                f"\nMeasuring {args.rounds} rounds (+{args.warmup} warm-up) of each operation, "
                "interleaved between the two sizes ..."
            )
            measured = measure(instances, args.rounds, args.warmup)
            for size, instance, operations in zip(sizes, instances, measured, strict=True):
                memory = worker_memory(instance, args.workers, warmup_requests=20)
                print(
                    f"{size:,}: gunicorn worker RSS after warm-up: {memory['workers_rss_mib']} MiB"
                )
                results["sizes"][str(size)].update(operations=operations, memory=memory)
        finally:
            from portfolio.core.db import db

            for instance in instances:
                if instance.app is not None:
                    with instance.app.app_context():
                        db.session.remove()
                        db.engine.dispose()
    small, large = results["sizes"][str(args.small)], results["sizes"][str(args.size)]
    print(
        f"\n| operation | {args.small:,}: median / p99 ms | {args.size:,}: median / p99 ms "
        "| ratio (median) | in the database, median ms | ratio (database) | of it COMMIT, ms "
        "| statements |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, at_small in small["operations"].items():
        at_large = large["operations"][name]
        ratio = at_large["median_ms"] / at_small["median_ms"]
        db_ratio = at_large["db_median_ms"] / at_small["db_median_ms"]
        print(
            f"| {name} | {at_small['median_ms']:.2f} / {at_small['p99_ms']:.2f} | "
            f"{at_large['median_ms']:.2f} / {at_large['p99_ms']:.2f} | {ratio:.2f} | "
            f"{at_small['db_median_ms']:.2f} → {at_large['db_median_ms']:.2f} | {db_ratio:.2f} | "
            f"{at_small['commit_median_ms']:.2f} → {at_large['commit_median_ms']:.2f} | "
            f"{at_small['statements']:.0f} → {at_large['statements']:.0f} |"
        )
    small_rss = max(small["memory"]["workers_rss_mib"] or [0])
    large_rss = max(large["memory"]["workers_rss_mib"] or [0])
    print(
        f"| gunicorn worker RSS (max of {args.workers}) | {small_rss} MiB | {large_rss} MiB | "
        f"{large_rss / small_rss if small_rss else float('nan'):.2f} | | | | |"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(f"\nResults written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
