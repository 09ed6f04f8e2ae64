"""Index for the administrators' credentials list (newest first), found by bench/scale.py

Revision ID: 5ca1e0b1e7a1
Revises: c871980448a2
Create Date: 2026-12-02 06:05:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5ca1e0b1e7a1"
down_revision = "c871980448a2"
branch_labels = None
depends_on = None


def upgrade():
    # /admin/credentials orders an issuer's credentials by issued_at, id (newest first) and
    # shows 50: with this index PostgreSQL reads them in index order instead of sorting all
    # of them (at 1,000,000 credentials, milliseconds instead of seconds).
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.create_index(
            "ix_issued_credentials_issuer_newest", ["issuer_id", "issued_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_index("ix_issued_credentials_issuer_newest")
