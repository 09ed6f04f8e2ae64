"""Fingerprints of the secrets every server shares

Revision ID: ops_a1
Revises: 5e1f0c2a9b7d
Create Date: 2026-12-06 04:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "ops_a1"
down_revision = "5e1f0c2a9b7d"
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
