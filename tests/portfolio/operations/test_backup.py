"""``credfolio backup`` / ``credfolio restore``: a whole instance (database, evidence store,
encrypted keys) into one archive and back into an EMPTY instance — another instance folder,
another storage folder, another database — where every credential still verifies, every
artefact still matches its SHA-256 and the keys still sign.

Runs on SQLite; on PostgreSQL when ``CREDFOLIO_DATABASE_URL`` names it (the restore target is
then a second database, ``<name>_restore``, created and dropped here), with the cross-database
restores SQLite → PostgreSQL and PostgreSQL → SQLite.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import MetaData, func, insert, inspect, select, text
from sqlalchemy.engine import make_url

from credentials.verify import FAILED, PASSED
from issuer_keys.encryption import KeyEncryptionSecret
from issuer_keys.store import decrypt_record
from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.assessment import credentials as issuing
from portfolio.assessment import service as assessment
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.evidence.models import Artefact
from portfolio.files.storage import storage
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential, IssuerKeyRow
from portfolio.operations import backup
from portfolio.operations import restore as restoring
from portfolio.operations.archive import (
    ArchiveError,
    BackupError,
    IncompatibleArchiveError,
    TargetNotEmptyError,
    decode_value,
    encode_value,
    reflect,
    verify_archive,
)
from tests.conftest import TEST_KEK, offer_suspension, unsigned_badge
from tests.portfolio.school import evidence, make_school

BASE_URL = os.environ.get("CREDFOLIO_DATABASE_URL") or ""
ON_POSTGRES = BASE_URL.startswith("postgresql")
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="needs CREDFOLIO_DATABASE_URL (PostgreSQL)"
)


# -- instances ---------------------------------------------------------------------------------


def make_app(folder: Path, database_url: str, *, kek: str = TEST_KEK, **config: Any) -> Flask:
    """An instance of the service: its own folder, storage folder and database."""
    from wsgi import create_app

    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": kek,
            "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
            "CREDFOLIO_STORAGE_PATH": str(folder / "blobs"),
            **config,
        }
    )


def wipe(app: Flask) -> None:
    """Drop every table of the instance's database (Alembic's too) and close its connections."""
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:  # faster than dropping table after table
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            tables = MetaData()
            tables.reflect(bind=db.engine)
            tables.drop_all(bind=db.engine)
        db.engine.dispose()


def table_names(app: Flask) -> list[str]:
    with app.app_context():
        return inspect(db.engine).get_table_names()


def stored_files(app: Flask) -> list[Path]:
    root = Path(app.config["CREDFOLIO_STORAGE_PATH"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@contextmanager
def postgres_database(suffix: str) -> Iterator[str]:
    """A second PostgreSQL database next to the suite's (autocommit: CREATE DATABASE cannot run
    in a transaction), dropped afterwards."""
    import psycopg

    url = make_url(BASE_URL)
    name = f"{url.database}_{suffix}"
    admin = {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class World:
    """A populated instance and what a faithful restore must reproduce."""

    app: Flask
    archive: Path
    states: dict[str, str] = field(default_factory=dict)
    revocation_positions: set[tuple[str, int]] = field(default_factory=set)
    artefacts: dict[str, bytes] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    secrets: list[bytes] = field(default_factory=list)


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLite gives naive UTC, PostgreSQL aware datetimes
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def every_row() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order, in a form equal across databases (the
    audit log's own records of backups and restores left out)."""
    connection = db.session.connection()
    rows = {}
    for table in reflect(connection):
        query = select(table).order_by(*table.primary_key.columns)
        if table.name == "audit_events":
            query = query.where(table.c.action.not_in(["backup_created", "backup_restored"]))
        rows[table.name] = [tuple(map(_comparable, row)) for row in connection.execute(query)]
    return rows


def build_world(folder: Path, database_url: str) -> World:
    """A school through the real services: credentials issued (one revoked, one suspended, one
    signed by a key since rotated out), evidence with uploaded files, a submission assessed
    into a mastery credential, and an assessor's endorsement — then backed up."""
    app = make_app(folder, database_url)
    wipe(app)
    with app.app_context():
        upgrade()
        key_store = app.extensions["credfolio"].key_store
        issuer = offer_suspension(default_issuer())  # one credential is suspended below
        key_store.create(issuer.did)
        school = make_school(issuer)
        services.issue(unsigned_badge(), issuer=issuer, recipient_name="First")
        key_store.rotate(issuer.did)  # the first credential's key is now retired
        revoked = services.issue(unsigned_badge(), issuer=issuer, recipient_name="Revoked")
        suspended = services.issue(unsigned_badge(), issuer=issuer, recipient_name="Suspended")
        services.set_status(revoked, "revoke", reason="issued by mistake", actor="cli")
        services.set_status(suspended, "suspend", reason="under review", actor="cli")
        items = [
            evidence(school.student, "My song"),
            evidence(school.student, "A story", text=b"Once upon a time", genre="Short story"),
        ]
        submission = assessment.create_submission(
            school.student,
            school.competency,
            evidence_ids=[item.public_id for item in items],
            note="Please look at the chorus.",
            submit=True,
        )
        outcome = assessment.assess(
            submission, school.assessor, decision="endorse", levels=[2, 2], feedback="Lovely."
        )
        assert outcome.credential is not None
        issuing.endorse_achievement(school.assessor, school.competency, "A fine competency.")

        world = World(app=app, archive=folder / "backup.tar.gz")
        for row in db.session.scalars(select(IssuedCredential)):
            world.states[row.public_id] = row.state
            world.revocation_positions.add((str(row.revocation_list_id), row.revocation_index))
        for artefact in db.session.scalars(
            select(Artefact).where(Artefact.blob_sha256.is_not(None))
        ):
            world.artefacts[artefact.public_id] = storage().get(artefact.blob_sha256)
        world.rows = every_row()
        world.counts = {name: len(rows) for name, rows in world.rows.items()}
        for record in key_store.list():
            key = decrypt_record(record, secret=KeyEncryptionSecret.from_text(TEST_KEK))
            seed = key.export_secret_seed()
            world.secrets += [
                seed,
                seed.hex().encode(),
                base64.b64encode(seed).rstrip(b"="),  # as a bytes column would be encoded
                base64.urlsafe_b64encode(seed).rstrip(b"="),
                key.export_secret_multibase().encode(),
            ]
        db.session.commit()
        backup.create_backup(
            world.archive,
            engine=db.engine,
            storage=storage(),
            key_encryption_fingerprint=key_store.key_encryption_fingerprint,
            issuer_did=app.extensions["credfolio"].issuer_did,
        )
    assert {"revoked", "suspended", "active"} <= set(world.states.values())
    assert len(world.states) == 5 and len(world.artefacts) == 2
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("source")
    url = BASE_URL or f"sqlite:///{folder / 'source.sqlite3'}"
    world = build_world(folder, url)
    yield world
    wipe(world.app)


@pytest.fixture(scope="module")
def restore_database() -> Iterator[str | None]:
    """On PostgreSQL, the second database restores go into (emptied by each test)."""
    if ON_POSTGRES:
        with postgres_database("restore") as url:
            yield url
    else:
        yield None


@pytest.fixture
def target_url(restore_database: str | None, tmp_path: Path) -> str:
    return restore_database or f"sqlite:///{tmp_path / 'restored.sqlite3'}"


@pytest.fixture
def target(tmp_path: Path, target_url: str) -> Iterator[Flask]:
    """An EMPTY instance: new folder, new storage folder, a database without a single table."""
    app = make_app(tmp_path / "target", target_url)
    wipe(app)
    assert table_names(app) == []
    yield app
    wipe(app)


def restore(app: Flask, archive: Path, **options: Any) -> restoring.RestoreSummary:
    components = app.extensions["credfolio"]
    with app.app_context():
        return restoring.restore_backup(
            archive,
            app=app,
            engine=db.engine,
            storage=storage(),
            key_encryption_fingerprint=components.key_store.key_encryption_fingerprint,
            issuer_did=components.issuer_did,
            **options,
        )


def check_restored(world: World, app: Flask) -> None:
    """Everything a faithful restore must give back, checked in the restored instance."""
    with app.app_context():
        verifier = app.extensions["credfolio"].verifier()
        rows = db.session.scalars(select(IssuedCredential)).all()
        assert {row.public_id: row.state for row in rows} == world.states
        for row in rows:
            result = verifier.verify(json.loads(row.document))
            proofs = [c.status for c in result.checks if c.name.startswith("proof")]
            assert proofs and set(proofs) == {PASSED}, result.errors
            failed = {c.name for c in result.checks if c.status == FAILED}
            if row.state == "active":
                assert result.verified, result.errors
            else:  # the status lists came back too: only the status check fails
                assert not result.verified
                assert failed == {"revocation" if row.state == "revoked" else "suspension"}

        backend = storage()
        assert Path(app.config["CREDFOLIO_STORAGE_PATH"]) != Path(
            world.app.config["CREDFOLIO_STORAGE_PATH"]
        )
        for artefact in db.session.scalars(
            select(Artefact).where(Artefact.blob_sha256.is_not(None))
        ):
            data = backend.get(artefact.blob_sha256)
            assert hashlib.sha256(data).hexdigest() == artefact.blob_sha256
            assert data == world.artefacts[artefact.public_id]
        assert len(world.artefacts) == db.session.scalar(
            select(func.count()).select_from(Artefact).where(Artefact.blob_sha256.is_not(None))
        )
        # Row for row, value for value (types included), whichever databases they are on.
        restored = every_row()
        assert restored.keys() == world.rows.keys()
        for name, rows in world.rows.items():
            assert restored[name] == rows, name

        # The restored (still encrypted) keys sign: a new credential verifies, and takes a
        # status position no credential had (the status lists' allocations came back too).
        issuer = default_issuer()
        new = services.issue(unsigned_badge(), issuer=issuer, recipient_name="After restore")
        assert verifier.verify(json.loads(new.document)).verified
        assert (str(new.revocation_list_id), new.revocation_index) not in world.revocation_positions
        db.session.remove()


# -- the restore ---------------------------------------------------------------------------------


def test_a_restored_instance_verifies_every_credential_and_every_artefact(
    world: World, target: Flask
) -> None:
    summary = restore(target, world.archive)
    assert summary.rows == sum(world.counts.values())
    assert summary.blobs == world.counts["blobs"] >= 2
    assert summary.upgraded_to is None  # made at this code's head revision
    check_restored(world, target)


def test_the_manifest_describes_every_member(world: World) -> None:
    with tarfile.open(world.archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert names[0] == "manifest.json"
        for member in manifest["members"]:
            data = tar.extractfile(member["name"]).read()  # type: ignore[union-attr]
            assert hashlib.sha256(data).hexdigest() == member["sha256"]
            assert len(data) == member["size"]
    assert manifest["format"] == "credfolio-backup" and manifest["format_version"] == 1
    assert manifest["credfolio_version"] == backup.credfolio_version()
    with world.app.app_context():
        assert manifest["alembic_revision"] == db.session.scalar(
            text("SELECT version_num FROM alembic_version")
        )
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == world.counts
    assert sorted(names[1:]) == sorted(m["name"] for m in manifest["members"])
    for artefact_bytes in world.artefacts.values():
        assert f"blobs/{hashlib.sha256(artefact_bytes).hexdigest()}" in names
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None


def test_the_archive_never_holds_a_decrypted_secret_key(world: World) -> None:
    data = gzip.decompress(world.archive.read_bytes())
    assert world.secrets
    for secret in world.secrets:
        assert secret not in data
    assert TEST_KEK.encode() not in data
    # ... but it does hold the keys, encrypted as the database keeps them.
    with world.app.app_context():
        for row in db.session.scalars(select(IssuerKeyRow)):
            assert row.encrypted_secret["ct"].encode() in data
        db.session.remove()


def test_restore_refuses_tables_not_made_by_the_migrations(world: World, target: Flask) -> None:
    with target.app_context():
        db.create_all()  # the tables, empty, but no Alembic revision: not ours to migrate
        names = sorted(inspect(db.engine).get_table_names())
    with pytest.raises(TargetNotEmptyError, match="no Alembic revision"):
        restore(target, world.archive)
    assert sorted(table_names(target)) == names


# -- the command line ----------------------------------------------------------------------------


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_the_commands_back_up_and_restore_with_documented_exit_codes(
    world: World, target: Flask, tmp_path: Path
) -> None:
    archive = tmp_path / "nightly.tar"
    source = world.app.test_cli_runner()
    result = source.invoke(args=["backup", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "not in the archive" in result.output
    assert "Tables" in result.output and "Evidence files" in result.output  # progress bars
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == "manifest.json"
    assert archive.read_bytes()[:2] != b"\x1f\x8b"  # .tar: not compressed
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    again = source.invoke(args=["backup", "--quiet", "--out", str(archive)])
    assert again.exit_code == 4 and "--force" in again.output
    forced = source.invoke(args=["backup", "--quiet", "--force", "--out", str(archive)])
    assert forced.exit_code == 0, forced.output
    assert "Tables" not in forced.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left

    checked = target.test_cli_runner().invoke(args=["restore", "--check", str(archive)])
    assert checked.exit_code == 0 and "intact" in checked.output
    assert table_names(target) == []  # --check changes nothing

    # The archive's own SHA-256, printed and audited, pins the file: another one is refused.
    printed = forced.output.split("SHA-256 of the archive: ")[1].split()[0]
    assert printed == hashlib.sha256(archive.read_bytes()).hexdigest()
    other = target.test_cli_runner().invoke(
        args=["restore", "--check", "--sha256", printed, str(world.archive)]
    )
    assert other.exit_code == 3 and "does not have the SHA-256" in other.output

    restored = target.test_cli_runner().invoke(
        args=["restore", "--sha256", printed.upper(), str(archive)]
    )
    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.output
    check_restored(world, target)
    with world.app.app_context():
        assert events("backup_created")[-1].detail["sha256"] == printed
        assert [e.detail["rows"] for e in events("backup_created")] == [
            sum(world.counts.values()),
            sum(world.counts.values()) + 1,  # the second archive holds the first's audit event
        ]
        db.session.remove()
    with target.app_context():
        [restored_event] = events("backup_restored")
        assert restored_event.actor_label == "cli" and restored_event.target == "backup:nightly.tar"
        db.session.remove()

    # Restoring again: the database is no longer empty, and is left as it is.
    with target.app_context():
        count = db.session.scalar(select(func.count()).select_from(IssuedCredential))
        db.session.remove()
    with pytest.raises(TargetNotEmptyError, match="not empty"):
        restore(target, archive)
    refused = target.test_cli_runner().invoke(args=["restore", "--quiet", str(archive)])
    assert refused.exit_code == 4, refused.output
    assert "not empty" in refused.output
    with target.app_context():
        assert db.session.scalar(select(func.count()).select_from(IssuedCredential)) == count
        db.session.remove()


def test_a_missing_folder_for_the_archive_is_made_private(world: World, tmp_path: Path) -> None:
    """Issue 18 §8: ``--out`` into a folder that does not exist yet."""
    archive = tmp_path / "backups" / "2026" / "nightly.tar"
    result = world.app.test_cli_runner().invoke(args=["backup", "-q", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.is_file()
    assert oct(archive.parent.stat().st_mode & 0o777) == "0o700"


def test_backup_refuses_a_database_not_made_by_the_migrations(tmp_path: Path) -> None:
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'bare.sqlite3'}")
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["backup", "-q", "--out", str(tmp_path / "b.tar")])
    assert result.exit_code == 1 and "no Alembic revision" in result.output
    assert not (tmp_path / "b.tar").exists()
    wipe(app)


def test_progress_goes_through_tables_rows_and_blobs_of_an_xz_archive(
    world: World, tmp_path: Path
) -> None:
    calls: list[tuple[str, int, int]] = []
    with world.app.app_context():
        summary = backup.create_backup(
            tmp_path / "progress.tar.xz",
            engine=db.engine,
            storage=storage(),
            compression="xz",
            progress=lambda *call: calls.append(call),
        )
        db.session.remove()
    assert summary.path.read_bytes()[:6] == b"\xfd7zXZ\x00"
    assert verify_archive(summary.path).data == summary.manifest
    final = {phase: (done, total) for phase, done, total in calls}
    tables = len(summary.manifest["tables"])
    assert summary.rows >= sum(world.counts.values()) and summary.blobs == world.counts["blobs"]
    assert final == {
        "tables": (tables, tables),
        "rows": (summary.rows, summary.rows),
        "blobs": (summary.blobs, summary.blobs),
    }
    for phase in final:
        done = [d for p, d, _ in calls if p == phase]
        assert done[0] == 0 and done == sorted(done), phase


def test_a_missing_or_damaged_blob_fails_the_backup_and_leaves_no_file(tmp_path: Path) -> None:
    app = make_app(tmp_path / "small", f"sqlite:///{tmp_path / 'small.sqlite3'}")
    try:
        with app.app_context():
            upgrade()
            school = make_school(default_issuer())
            item = evidence(school.student, "My song")
            [artefact] = [a for a in item.artefacts if a.blob_sha256]
            blob = storage().path(artefact.blob_sha256)  # type: ignore[attr-defined]
            db.session.remove()
        out = tmp_path / "out" / "backup.tar.gz"
        out.parent.mkdir()
        runner = app.test_cli_runner()
        for damage, message in (
            (lambda: blob.write_bytes(b"not the lyrics"), "does not match its SHA-256"),
            (blob.unlink, "missing from the evidence store"),
        ):
            damage()
            result = runner.invoke(args=["backup", "-q", "--out", str(out)])
            assert result.exit_code == 1 and message in result.output, result.output
            assert list(out.parent.iterdir()) == []  # neither the archive nor a temporary file
    finally:
        wipe(app)


# -- consistency -----------------------------------------------------------------------------


def test_the_backup_is_one_snapshot_while_writers_go_on(world: World, tmp_path: Path) -> None:
    """A row committed by another connection after the snapshot began is not in the archive
    (without the snapshot transaction, the audit log would be read after the write)."""
    written: list[int] = []

    def write_meanwhile(phase: str, done: int, _total: int) -> None:
        if phase == "tables" and done == 0:
            with db.engine.begin() as other:
                result = other.execute(
                    insert(AuditEvent).values(
                        at=datetime.now(UTC), action="written_during_backup", detail={}
                    )
                )
                written.append(result.inserted_primary_key[0])

    archive = tmp_path / "during.tar"
    with world.app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        db.session.commit()
        summary = backup.create_backup(
            archive, engine=db.engine, storage=storage(), progress=write_meanwhile
        )
        try:
            assert written
            after = db.session.scalar(select(func.count()).select_from(AuditEvent))
            assert after == before + 1
            rows = {t["name"]: t["rows"] for t in summary.manifest["tables"]}
            assert rows["audit_events"] == before
        finally:
            with db.engine.begin() as connection:
                connection.execute(AuditEvent.__table__.delete().where(AuditEvent.id.in_(written)))
            db.session.remove()


# -- tampered, truncated and foreign archives: refused, and the target left untouched ----------


def _rewrite(
    archive: Path, out: Path, change: Callable[[list[tuple[tarfile.TarInfo, bytes]]], None]
) -> Path:
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    change(members)
    with tarfile.open(out, "w") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def _manifest(members: list[tuple[tarfile.TarInfo, bytes]]) -> dict[str, Any]:
    return json.loads(members[0][1])


def _set_manifest(members: list[tuple[tarfile.TarInfo, bytes]], manifest: dict[str, Any]) -> None:
    members[0] = (members[0][0], json.dumps(manifest).encode())


def flipped_byte_in_a_table(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    for number, (info, data) in enumerate(members):
        if info.name == "tables/issued_credentials.jsonl":
            middle = len(data) // 2
            members[number] = (
                info,
                data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :],
            )


def missing_blob(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    del members[next(n for n, (info, _) in enumerate(members) if info.name.startswith("blobs/"))]


def manifest_hash_mismatch(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    manifest = _manifest(members)
    entry = next(m for m in manifest["members"] if m["name"] == "tables/issuer_keys.jsonl")
    entry["sha256"] = hashlib.sha256(b"something else").hexdigest()
    _set_manifest(members, manifest)


def extra_member(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    members.append((tarfile.TarInfo("tables/users.jsonl.orig"), b"{}\n"))


def row_count_mismatch(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    manifest = _manifest(members)
    entry = next(t for t in manifest["tables"] if t["name"] == "issued_credentials")
    entry["rows"] += 1
    _set_manifest(members, manifest)


TAMPERED = {
    flipped_byte_in_a_table: "tables/issued_credentials.jsonl does not match the SHA-256",
    missing_blob: "incomplete .*missing blobs/",
    manifest_hash_mismatch: "tables/issuer_keys.jsonl does not match the SHA-256",
    extra_member: "not in the manifest",
    row_count_mismatch: "holds 5 rows, the manifest says 6",
}


def assert_untouched(target: Flask) -> None:
    assert table_names(target) == []
    assert stored_files(target) == []


@pytest.mark.parametrize("tamper", list(TAMPERED), ids=lambda f: f.__name__)
def test_a_tampered_archive_is_refused_and_nothing_is_written(
    world: World, target: Flask, tmp_path: Path, tamper: Callable[..., None]
) -> None:
    archive = _rewrite(world.archive, tmp_path / f"{tamper.__name__}.tar", tamper)
    with pytest.raises(ArchiveError, match=TAMPERED[tamper]):
        restore(target, archive)
    assert_untouched(target)
    result = target.test_cli_runner().invoke(args=["restore", "-q", str(archive)])
    assert result.exit_code == 3, result.output
    assert_untouched(target)


def test_rows_that_refer_to_missing_rows_are_rolled_back(
    world: World, target: Flask, tmp_path: Path
) -> None:
    """An archive whose hashes were all rewritten to match — but one issuer row is gone: the
    rows that refer to it are refused, and the transaction leaves every table empty."""

    def drop_an_issuer(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
        manifest = _manifest(members)
        for number, (info, data) in enumerate(members):
            if info.name == "tables/issuers.jsonl":
                data = data.split(b"\n", 1)[1]
                members[number] = (info, data)
                entry = next(m for m in manifest["members"] if m["name"] == info.name)
                entry.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
                next(t for t in manifest["tables"] if t["name"] == "issuers")["rows"] -= 1
        _set_manifest(members, manifest)

    archive = _rewrite(world.archive, tmp_path / "dangling.tar", drop_an_issuer)
    verify_archive(archive)  # consistent as far as the hashes go
    with pytest.raises(BackupError, match=r"refer to rows|refused the restored rows"):
        restore(target, archive)
    with target.app_context():
        assert restoring.non_empty_tables(db.engine) == []
        db.engine.dispose()


def test_an_evidence_store_that_cannot_be_written_rolls_the_restore_back(
    world: World, tmp_path: Path, target_url: str
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("the storage path is a file, so no blob can be written under it")
    app = make_app(tmp_path / "blocked", target_url, CREDFOLIO_STORAGE_PATH=str(blocked))
    wipe(app)
    try:
        result = app.test_cli_runner().invoke(args=["restore", "-q", str(world.archive)])
        assert result.exit_code == 1, result.output
        assert "cannot write blob" in result.output and "rolled back" in result.output
        with app.app_context():
            assert restoring.non_empty_tables(db.engine) == []
            db.engine.dispose()
    finally:
        wipe(app)


def test_a_truncated_archive_is_refused(world: World, target: Flask, tmp_path: Path) -> None:
    data = world.archive.read_bytes()
    for cut in (len(data) // 2, len(data) - 30):
        archive = tmp_path / f"cut-{cut}.tar.gz"
        archive.write_bytes(data[:cut])
        with pytest.raises(ArchiveError, match=r"damaged or truncated|incomplete"):
            restore(target, archive)
        assert_untouched(target)


def test_a_file_that_is_not_a_backup_is_refused(target: Flask, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not an archive")
    with pytest.raises(ArchiveError, match="not a Credfolio backup"):
        restore(target, junk)
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.addfile(tarfile.TarInfo("README"), io.BytesIO(b""))
    with pytest.raises(ArchiveError, match=r"manifest\.json is not its first member"):
        restore(target, other)
    assert_untouched(target)


def test_an_archive_from_a_newer_credfolio_is_refused(
    world: World, target: Flask, tmp_path: Path
) -> None:
    def newer_format(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
        _set_manifest(members, {**_manifest(members), "format_version": 2})

    def unknown_revision(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
        _set_manifest(members, {**_manifest(members), "alembic_revision": "fffffffffff0"})

    cases = ((newer_format, "format version 2"), (unknown_revision, "does not know"))
    for change, message in cases:
        archive = _rewrite(world.archive, tmp_path / f"{change.__name__}.tar", change)
        with pytest.raises(IncompatibleArchiveError, match=message):
            restore(target, archive)
        result = target.test_cli_runner().invoke(args=["restore", "-q", str(archive)])
        assert result.exit_code == 5, result.output
        assert_untouched(target)


def test_a_restore_with_another_key_encryption_secret_is_refused(
    world: World, tmp_path: Path, target_url: str
) -> None:
    other = make_app(tmp_path / "other-kek", target_url, kek="0123456789abcdef" * 4)
    wipe(other)
    try:
        with pytest.raises(IncompatibleArchiveError, match="key-encryption secret"):
            restore(other, world.archive)
        assert_untouched(other)
    finally:
        wipe(other)


def test_a_restore_as_another_issuer_is_refused(
    world: World, tmp_path: Path, target_url: str
) -> None:
    """Another public URL means another did:web: no restored credential would verify."""
    other = make_app(tmp_path / "other-host", target_url, CREDFOLIO_PUBLIC_URL="https://other.test")
    wipe(other)
    try:
        with pytest.raises(IncompatibleArchiveError, match=r"did:web:other\.test"):
            restore(other, world.archive)
        result = other.test_cli_runner().invoke(args=["restore", "-q", str(world.archive)])
        assert result.exit_code == 5 and "CREDFOLIO_PUBLIC_URL" in result.output
        assert_untouched(other)
    finally:
        wipe(other)


def test_blob_members_must_match_the_blobs_table(
    world: World, target: Flask, tmp_path: Path
) -> None:
    """A blob member and its manifest entry both removed (the hashes all agree): the blobs
    table still lists it, so the restore is rolled back."""

    def drop_a_blob_entirely(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
        missing_blob(members)
        manifest = _manifest(members)
        present = {info.name for info, _ in members}
        manifest["members"] = [m for m in manifest["members"] if m["name"] in present]
        _set_manifest(members, manifest)

    archive = _rewrite(world.archive, tmp_path / "one-blob-less.tar", drop_a_blob_entirely)
    verify_archive(archive)
    with pytest.raises(ArchiveError, match="blobs table and the blob members differ"):
        restore(target, archive)
    with target.app_context():
        assert restoring.non_empty_tables(db.engine) == []
        db.engine.dispose()


# -- an archive of an older schema, and across databases -----------------------------------------


def test_an_archive_of_an_older_schema_is_upgraded_after_the_restore(
    tmp_path: Path, target: Flask
) -> None:
    old = "bf79224e72e9"  # the revision before the latest one on this branch
    source = make_app(tmp_path / "old", f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        with source.app_context():
            upgrade(revision=old)
            with db.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO issuers (slug, did, name, created_at) "
                        "VALUES ('old', 'did:web:old.test', 'Old School', '2024-05-01 10:00:00')"
                    )
                )
            backup.create_backup(tmp_path / "old.tar", engine=db.engine, storage=storage())
        # The target was already migrated to head (`credfolio db upgrade`): still empty, so it
        # is brought down to the archive's revision, filled, then upgraded again.
        with target.app_context():
            upgrade()
        summary = restore(target, tmp_path / "old.tar")
        assert summary.revision == old and summary.upgraded_to not in (None, old)
        with target.app_context():
            assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == (
                summary.upgraded_to
            )
            issuer = ensure_issuer(did="did:web:old.test", name="ignored", slug="old")
            assert issuer.name == "Old School"
            assert issuer.created_at.replace(tzinfo=UTC) == datetime(2024, 5, 1, 10, tzinfo=UTC)
            db.session.remove()
    finally:
        wipe(source)


@postgres_only
def test_a_sqlite_backup_restores_into_postgresql(tmp_path: Path, target: Flask) -> None:
    world = build_world(tmp_path / "sqlite", f"sqlite:///{tmp_path / 'sqlite.sqlite3'}")
    try:
        assert make_url(target.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql"
        restore(target, world.archive)
        check_restored(world, target)
    finally:
        wipe(world.app)


@postgres_only
def test_a_postgresql_backup_restores_into_sqlite(world: World, tmp_path: Path) -> None:
    sqlite = make_app(tmp_path / "sqlite", f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    try:
        restore(sqlite, world.archive)
        check_restored(world, sqlite)
    finally:
        wipe(sqlite)


def test_an_instance_on_an_object_store_restores_and_backs_up_the_same_blobs(
    world: World, tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restore into an instance whose evidence lives in S3 (moto's S3 API server on loopback),
    then back that instance up: the same blobs, byte for byte."""
    from portfolio.files.storage import S3Storage
    from tests.portfolio.files.test_storage import run_moto, s3_client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    moto = run_moto()
    endpoint = next(moto)
    client = s3_client(endpoint)
    client.create_bucket(Bucket="restored-evidence")
    app = make_app(
        tmp_path / "s3",
        target_url,
        CREDFOLIO_STORAGE="s3",
        CREDFOLIO_S3_BUCKET="restored-evidence",
        CREDFOLIO_S3_ENDPOINT_URL=endpoint,
        CREDFOLIO_S3_REGION="us-east-1",
    )
    wipe(app)
    try:
        with app.app_context():
            assert isinstance(storage(), S3Storage)
            upgrade()  # an empty database already at head is a fine target too
        restore(app, world.archive)
        check_restored(world, app)
        listed = client.list_objects_v2(Bucket="restored-evidence")["Contents"]
        assert len(listed) == world.counts["blobs"]

        again = tmp_path / "from-s3.tar.gz"
        with app.app_context():
            backup.create_backup(again, engine=db.engine, storage=storage())

        def blobs(archive: Path) -> dict[str, bytes]:
            with tarfile.open(archive) as tar:
                return {
                    m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                    for m in tar.getmembers()
                    if m.name.startswith("blobs/")
                }

        assert blobs(again) == blobs(world.archive)
    finally:
        wipe(app)
        client.close()
        moto.close()


# -- the value encoding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "json_column"),
    [
        (None, False),
        (True, False),
        (7, False),
        (0.25, False),
        (float("inf"), False),
        ("text with \u2028 and \n", False),
        (datetime(2025, 1, 31, 12, 30, tzinfo=UTC), False),
        (datetime(2025, 1, 31, 12, 30), False),
        (b"\x00\xffbytes", False),
        (Decimal("12.3400"), False),
        ({"$datetime": "not a date", "nested": [1, 2]}, True),
        (["a", {"$bytes": "x"}], True),
    ],
)
def test_values_round_trip_with_their_types(value: Any, json_column: bool) -> None:
    encoded = json.loads(json.dumps(encode_value(value, json_column=json_column)))
    decoded = decode_value(encoded, timezone=False)
    if isinstance(value, datetime) and value.tzinfo is not None:
        assert decoded == value.replace(tzinfo=None)  # naive UTC for a column without zones
        assert decode_value(encoded, timezone=True) == value
    else:
        assert decoded == value and type(decoded) is type(value)


def test_a_naive_datetime_is_utc_in_a_column_with_time_zones() -> None:
    encoded = encode_value(datetime(2025, 1, 31, 12, 30))
    assert decode_value(encoded, timezone=True) == datetime(2025, 1, 31, 12, 30, tzinfo=UTC)


def test_an_unknown_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown value tag"):
        decode_value({"$pickle": "..."})


def test_every_backup_error_is_a_service_error_of_its_kind_with_its_exit_code() -> None:
    from portfolio.core.errors import ConflictError, CredfolioError, InvalidInputError, status_for
    from portfolio.operations.archive import OutputExistsError

    kinds = {
        BackupError: (CredfolioError, 1),
        OutputExistsError: (ConflictError, 4),
        ArchiveError: (InvalidInputError, 3),
        TargetNotEmptyError: (ConflictError, 4),
        IncompatibleArchiveError: (InvalidInputError, 5),
    }
    for error, (kind, exit_code) in kinds.items():
        refused = error("the message")
        assert isinstance(refused, BackupError) and isinstance(refused, kind)
        assert (refused.exit_code, refused.message, str(refused)) == (
            exit_code,
            "the message",
            "the message",
        )
        assert status_for(refused) in (400, 409, 422)


def test_restoring_into_a_bucket_that_does_not_exist_says_to_create_it(
    world: World, tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18 §2: restoring into a new bucket must say what to do."""
    from tests.portfolio.files.test_storage import run_moto

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    moto = run_moto()
    endpoint = next(moto)
    app = make_app(
        tmp_path / "s3-missing",
        target_url,
        CREDFOLIO_STORAGE="s3",
        CREDFOLIO_S3_BUCKET="never-created",
        CREDFOLIO_S3_ENDPOINT_URL=endpoint,
        CREDFOLIO_S3_REGION="us-east-1",
    )
    wipe(app)
    try:
        result = app.test_cli_runner().invoke(args=["restore", "-q", str(world.archive)])
        assert result.exit_code != 0
        assert "run `credfolio storage init` first" in result.output
        assert app.test_cli_runner().invoke(args=["storage", "init"]).exit_code == 0
        assert (
            app.test_cli_runner().invoke(args=["restore", "-q", str(world.archive)]).exit_code == 0
        )
    finally:
        wipe(app)
        moto.close()
