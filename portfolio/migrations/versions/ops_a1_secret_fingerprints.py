"""Fingerprints of the secrets every server shares

Revision ID: ops_a1
Revises: 7a1c3e5f9b20
Create Date: 2026-12-06 04:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "ops_a1"
down_revision = "7a1c3e5f9b20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "secret_fingerprints",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_secret_fingerprints")),
    )


def downgrade():
    op.drop_table("secret_fingerprints")
