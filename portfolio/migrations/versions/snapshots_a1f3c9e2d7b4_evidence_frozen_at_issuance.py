"""Evidence frozen at issuance: snapshots of what each credential was awarded for

Revision ID: a1f3c9e2d7b4
Revises: holes_a1
Create Date: 2026-12-06 03:40:00.000000

Existing credentials get snapshots of what they point at now (best effort, docs/security.md
"Evidence frozen at issuance"): each evidence page entry of a credential's signed document
(``<credential id>/evidence/<evidence public id>``) becomes a snapshot with the *same* public
id, so the URL in the credential keeps working; its title, narrative and genre are the ones
the credential itself carries (what was signed).  Each file entry (``.../artefacts/<id>`` with
a ``digestSRI``) becomes a frozen artefact with the same id, referencing the stored blob whose
SHA-256 is the digest — never a file added since; its accessibility texts come from the live
artefact when it still exists.  A file whose bytes are no longer stored is left out (its URL
answers 404, as before).  Links follow the page entry they were listed under.
"""

import base64
import binascii
import json
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a1f3c9e2d7b4"
down_revision = "holes_a1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "evidence_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("genre", sa.String(length=128), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["issued_credentials.id"],
            name=op.f("fk_evidence_snapshots_credential_id_issued_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_evidence_snapshots_evidence_id_evidence"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_evidence_snapshots_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_snapshots")),
        sa.UniqueConstraint(
            "credential_id", "public_id", name=op.f("uq_evidence_snapshots_credential_id")
        ),
    )
    with op.batch_alter_table("evidence_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_snapshots_credential_id"), ["credential_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_snapshots_evidence_id"), ["evidence_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_snapshots_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "evidence_snapshot_artefacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("original_filename", sa.String(length=256), nullable=True),
        sa.Column("media_type", sa.String(length=128), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("captions_vtt", sa.Text(), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('file', 'link')", name=op.f("ck_evidence_snapshot_artefacts_kind")
        ),
        sa.ForeignKeyConstraint(
            ["blob_sha256"],
            ["blobs.sha256"],
            name=op.f("fk_evidence_snapshot_artefacts_blob_sha256_blobs"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["evidence_snapshots.id"],
            name=op.f("fk_evidence_snapshot_artefacts_snapshot_id_evidence_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_snapshot_artefacts")),
        sa.UniqueConstraint(
            "snapshot_id", "public_id", name=op.f("uq_evidence_snapshot_artefacts_snapshot_id")
        ),
    )
    with op.batch_alter_table("evidence_snapshot_artefacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_snapshot_artefacts_blob_sha256"), ["blob_sha256"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_snapshot_artefacts_snapshot_id"), ["snapshot_id"], unique=False
        )

    _snapshot_existing_credentials(op.get_bind())


def downgrade():
    with op.batch_alter_table("evidence_snapshot_artefacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_snapshot_artefacts_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_snapshot_artefacts_blob_sha256"))
    op.drop_table("evidence_snapshot_artefacts")
    with op.batch_alter_table("evidence_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_snapshots_owner_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_snapshots_evidence_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_snapshots_credential_id"))
    op.drop_table("evidence_snapshots")


# -- the back-fill (plain SQL: the models may have moved on since this revision) --------------

_credentials = sa.table(
    "issued_credentials",
    sa.column("id", sa.Integer),
    sa.column("document", sa.Text),
    sa.column("recipient_user_id", sa.Integer),
    sa.column("issued_at", sa.DateTime(timezone=True)),
)
_evidence = sa.table(
    "evidence",
    sa.column("id", sa.Integer),
    sa.column("public_id", sa.String),
    sa.column("owner_id", sa.Integer),
)
_artefacts = sa.table(
    "artefacts",
    sa.column("public_id", sa.String),
    sa.column("evidence_id", sa.Integer),
    sa.column("blob_sha256", sa.String),
    sa.column("original_filename", sa.String),
    sa.column("alt_text", sa.Text),
    sa.column("captions_vtt", sa.Text),
    sa.column("transcript", sa.Text),
    sa.column("duration_seconds", sa.Double),
)
_blobs = sa.table(
    "blobs",
    sa.column("sha256", sa.String),
    sa.column("size", sa.Integer),
    sa.column("media_type", sa.String),
)
_snapshots = sa.table(
    "evidence_snapshots",
    sa.column("id", sa.Integer),
    sa.column("public_id", sa.String),
    sa.column("credential_id", sa.Integer),
    sa.column("owner_id", sa.Integer),
    sa.column("evidence_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("title", sa.String),
    sa.column("narrative", sa.Text),
    sa.column("genre", sa.String),
    sa.column("taken_at", sa.DateTime(timezone=True)),
)
_snapshot_artefacts = sa.table(
    "evidence_snapshot_artefacts",
    sa.column("public_id", sa.String),
    sa.column("snapshot_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("title", sa.String),
    sa.column("blob_sha256", sa.String),
    sa.column("original_filename", sa.String),
    sa.column("media_type", sa.String),
    sa.column("size", sa.Integer),
    sa.column("url", sa.String),
    sa.column("alt_text", sa.Text),
    sa.column("captions_vtt", sa.Text),
    sa.column("transcript", sa.Text),
    sa.column("duration_seconds", sa.Double),
)


def _text(value, limit):
    return value[:limit] if isinstance(value, str) else None


def _hex_of_sri(value):
    """The hex SHA-256 of a ``sha256-<base64>`` digest, else None."""
    if not isinstance(value, str) or not value.startswith("sha256-"):
        return None
    try:
        raw = base64.b64decode(value[len("sha256-") :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _snapshot_existing_credentials(connection):
    rows = connection.execute(
        sa.select(
            _credentials.c.id,
            _credentials.c.document,
            _credentials.c.recipient_user_id,
            _credentials.c.issued_at,
        )
    ).all()
    for credential_id, document, recipient_user_id, issued_at in rows:
        try:
            parsed = json.loads(document)
        except ValueError:
            continue
        if not isinstance(parsed, dict) or not isinstance(parsed.get("id"), str):
            continue
        entries = parsed.get("evidence")
        entries = entries if isinstance(entries, list) else [entries] if entries else []
        prefix = parsed["id"] + "/evidence/"
        current = None  # (snapshot row id, evidence row id or None)
        position = 0
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                continue
            url = entry["id"]
            if url.startswith(prefix) and "/" not in url[len(prefix) :]:
                current = _page(
                    connection,
                    entry,
                    url[len(prefix) :],
                    credential_id=credential_id,
                    recipient_user_id=recipient_user_id,
                    taken_at=issued_at,
                    position=len(_seen(connection, credential_id)),
                )
                position = 0
            elif current is not None and url.startswith(prefix):
                position += 1
                _file(connection, entry, url, current, position)
            elif current is not None and entry.get("genre") == "Link":
                position += 1
                _link(connection, entry, url, current[0], position)


def _seen(connection, credential_id):
    return connection.execute(
        sa.select(_snapshots.c.id).where(_snapshots.c.credential_id == credential_id)
    ).all()


def _page(connection, entry, public_id, *, credential_id, recipient_user_id, taken_at, position):
    live = connection.execute(
        sa.select(_evidence.c.id, _evidence.c.owner_id).where(_evidence.c.public_id == public_id)
    ).first()
    owner_id = recipient_user_id if recipient_user_id is not None else (live and live[1])
    if owner_id is None or len(public_id) > 36:
        return None
    evidence_id = live[0] if live is not None and live[1] == owner_id else None
    connection.execute(
        _snapshots.insert().values(
            public_id=public_id,
            credential_id=credential_id,
            owner_id=owner_id,
            evidence_id=evidence_id,
            position=position,
            title=_text(entry.get("name"), 256) or "Evidence",
            narrative=_text(entry.get("narrative"), 1_000_000) or "",
            genre=_text(entry.get("genre"), 128),
            taken_at=taken_at,
        )
    )
    snapshot_id = connection.execute(
        sa.select(_snapshots.c.id).where(
            _snapshots.c.credential_id == credential_id, _snapshots.c.public_id == public_id
        )
    ).scalar_one()
    return snapshot_id, evidence_id


def _file(connection, entry, url, current, position):
    snapshot_id, evidence_id = current
    head, _, artefact_id = url.rpartition("/artefacts/")
    sha256 = _hex_of_sri(entry.get("digestSRI"))
    if not head or not artefact_id or "/" in artefact_id or len(artefact_id) > 36 or not sha256:
        return
    blob = connection.execute(
        sa.select(_blobs.c.size, _blobs.c.media_type).where(_blobs.c.sha256 == sha256)
    ).first()
    if blob is None:
        return  # the bytes are gone: the URL answers 404, as it did
    live = connection.execute(
        sa.select(
            _artefacts.c.original_filename,
            _artefacts.c.alt_text,
            _artefacts.c.captions_vtt,
            _artefacts.c.transcript,
            _artefacts.c.duration_seconds,
        ).where(
            _artefacts.c.public_id == artefact_id,
            _artefacts.c.evidence_id == evidence_id,
            _artefacts.c.blob_sha256 == sha256,
        )
    ).first()
    connection.execute(
        _snapshot_artefacts.insert().values(
            public_id=artefact_id,
            snapshot_id=snapshot_id,
            position=position,
            kind="file",
            title=_text(entry.get("name"), 256) or "File",
            blob_sha256=sha256,
            original_filename=live[0] if live else None,
            media_type=blob[1],
            size=blob[0],
            url=None,
            alt_text=live[1] if live else None,
            captions_vtt=live[2] if live else None,
            transcript=live[3] if live else None,
            duration_seconds=live[4] if live else None,
        )
    )


def _link(connection, entry, url, snapshot_id, position):
    if len(url) > 2048:
        return
    connection.execute(
        _snapshot_artefacts.insert().values(
            public_id=str(uuid.uuid4()),
            snapshot_id=snapshot_id,
            position=position,
            kind="link",
            title=_text(entry.get("name"), 256) or url,
            url=url,
        )
    )
