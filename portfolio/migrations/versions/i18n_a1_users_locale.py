"""A person's chosen language (issue 16, "Languages"): NULL means the browser's

Revision ID: i18n_a1
Revises: ops_a1
Create Date: 2026-12-06 06:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "i18n_a1"
down_revision = "ops_a1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
