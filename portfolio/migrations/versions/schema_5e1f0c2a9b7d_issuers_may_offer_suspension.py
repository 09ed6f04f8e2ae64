"""Issuers may offer suspension (a second status entry); off by default

New credentials carry one credentialStatus object (revocation), which the 1EdTech OB 3.0 JSON
Schema requires; an issuer that switches this on adds a suspension entry and strict validators
reject the list.  Existing issuers start with it off; credentials they already issued keep both
entries and can still be suspended.

Revision ID: 5e1f0c2a9b7d
Revises: holes_a1
Create Date: 2026-12-06 03:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e1f0c2a9b7d"
down_revision = "holes_a1"  # re-chained onto main's head when main was merged in (first: d682eab6459b)
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
