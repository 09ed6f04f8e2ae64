"""Issuer trust list, the verdict generation, and each school's recipient identity

Revision ID: 7a1c3e5f9b20
Revises: 5e1f0c2a9b7d
Create Date: 2026-12-06 03:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7a1c3e5f9b20"
down_revision = "5e1f0c2a9b7d"  # after the schema branch's (merged first)
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "trusted_issuers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("did", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("added_by_issuer_id", sa.Integer(), nullable=False),
        sa.Column("added_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_issuer_id"],
            ["issuers.id"],
            name=op.f("fk_trusted_issuers_added_by_issuer_id_issuers"),
        ),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"],
            ["users.id"],
            name=op.f("fk_trusted_issuers_added_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_issuers")),
        sa.UniqueConstraint("did", name=op.f("uq_trusted_issuers_did")),
    )
    with op.batch_alter_table("trusted_issuers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trusted_issuers_added_by_issuer_id"),
            ["added_by_issuer_id"],
            unique=False,
        )
    op.create_table(
        "verdict_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdict_generation")),
    )
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_identity", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            "recipient_identity", "recipient_identity IN ('email', 'did', 'name')"
        )


def downgrade():
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_issuers_recipient_identity"), type_="check")
        batch_op.drop_column("recipient_identity")
    op.drop_table("verdict_generation")
    with op.batch_alter_table("trusted_issuers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trusted_issuers_added_by_issuer_id"))
    op.drop_table("trusted_issuers")
