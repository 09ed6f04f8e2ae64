"""Issuers may offer suspension (a second status entry); off by default

New credentials carry one credentialStatus object (revocation), which the 1EdTech OB 3.0 JSON
Schema requires; an issuer that switches this on adds a suspension entry and strict validators
reject the list.  Existing issuers start with it off; credentials they already issued keep both
entries and can still be suspended.

Revision ID: 5e1f0c2a9b7d
Revises: a1f3c9e2d7b4
Create Date: 2026-12-06 03:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e1f0c2a9b7d"
down_revision = "a1f3c9e2d7b4"  # after the evidence snapshots (merged first)
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "offers_suspension", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.drop_column("offers_suspension")
