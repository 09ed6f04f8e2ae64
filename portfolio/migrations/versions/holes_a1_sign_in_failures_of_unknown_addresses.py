"""Sign-in failures of addresses without an account, in the database

Revision ID: holes_a1
Revises: d682eab6459b
Create Date: 2026-12-06 03:20:00

Every worker and server counts them in one place, as accounts' own failures are counted
(issue 15 §5: counting them per worker told which addresses have accounts).
"""

import sqlalchemy as sa
from alembic import op


revision = "holes_a1"
down_revision = "d682eab6459b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_failures",
        sa.Column("address_digest", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("address_digest", name=op.f("pk_sign_in_failures")),
    )


def downgrade():
    op.drop_table("sign_in_failures")
