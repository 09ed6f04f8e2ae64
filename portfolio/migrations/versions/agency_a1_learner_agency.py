"""Learner agency (issue 17): learning plans, the reflection journal, plan comments,
self-assessments, peer reviews, signal thresholds, guardians and publication consent

Revision ID: agency_a1
Revises: i18n_a1
Create Date: 2026-12-06 09:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "agency_a1"
down_revision = "i18n_a1"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('admin', 'assessor', 'student')"
NEW_ROLES = "role IN ('admin', 'assessor', 'student', 'guardian')"


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("minor", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch.drop_constraint(batch.f("ck_users_role"), type_="check")
        batch.create_check_constraint(batch.f("ck_users_role"), NEW_ROLES)
    with op.batch_alter_table("issuers") as batch:
        batch.add_column(sa.Column("minor_below_age", sa.Integer(), nullable=True))
    with op.batch_alter_table("portfolios") as batch:
        batch.add_column(
            sa.Column(
                "shared_with_guardians", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("competencies") as batch:
        batch.add_column(
            sa.Column("peer_reviewers", sa.Integer(), server_default="0", nullable=False)
        )

    op.create_table(
        "guardian_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_guardian_links_created_by_id_users")),
        sa.ForeignKeyConstraint(["guardian_id"], ["users.id"], name=op.f("fk_guardian_links_guardian_id_users")),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_guardian_links_student_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_links")),
        sa.UniqueConstraint("guardian_id", "student_id", name=op.f("uq_guardian_links_guardian_id")),
    )
    op.create_index(op.f("ix_guardian_links_guardian_id"), "guardian_links", ["guardian_id"])
    op.create_index(op.f("ix_guardian_links_student_id"), "guardian_links", ["student_id"])

    op.create_table(
        "guardian_invitation_students",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], name=op.f("fk_guardian_invitation_students_invitation_id_invitations")),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_guardian_invitation_students_student_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardian_invitation_students")),
        sa.UniqueConstraint("invitation_id", "student_id", name=op.f("uq_guardian_invitation_students_invitation_id")),
    )
    op.create_index(op.f("ix_guardian_invitation_students_invitation_id"), "guardian_invitation_students", ["invitation_id"])
    op.create_index(op.f("ix_guardian_invitation_students_student_id"), "guardian_invitation_students", ["student_id"])

    op.create_table(
        "publication_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("given_as", sa.String(length=16), nullable=False),
        sa.Column("given_by_id", sa.Integer(), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("given_as IN ('guardian', 'school')", name=op.f("ck_publication_consents_given_as")),
        sa.ForeignKeyConstraint(["given_by_id"], ["users.id"], name=op.f("fk_publication_consents_given_by_id_users")),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_publication_consents_student_id_users")),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["users.id"], name=op.f("fk_publication_consents_withdrawn_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_consents")),
    )
    op.create_index(op.f("ix_publication_consents_student_id"), "publication_consents", ["student_id"])

    op.create_table(
        "plan_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("milestones", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["competency_id"], ["competencies.id"], name=op.f("fk_plan_items_competency_id_competencies")),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_plan_items_student_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_items")),
        sa.UniqueConstraint("public_id", name=op.f("uq_plan_items_public_id")),
        sa.UniqueConstraint("student_id", "competency_id", name=op.f("uq_plan_items_student_id")),
    )
    op.create_index(op.f("ix_plan_items_competency_id"), "plan_items", ["competency_id"])
    op.create_index(op.f("ix_plan_items_student_id"), "plan_items", ["student_id"])
    op.create_index(op.f("ix_plan_items_target_date"), "plan_items", ["target_date"])

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("plan_item_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audio_sha256", sa.String(length=64), nullable=True),
        sa.Column("audio_media_type", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["audio_sha256"], ["blobs.sha256"], name=op.f("fk_journal_entries_audio_sha256_blobs")),
        sa.ForeignKeyConstraint(["plan_item_id"], ["plan_items.id"], name=op.f("fk_journal_entries_plan_item_id_plan_items"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_journal_entries_student_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("public_id", name=op.f("uq_journal_entries_public_id")),
    )
    op.create_index(op.f("ix_journal_entries_created_at"), "journal_entries", ["created_at"])
    op.create_index(op.f("ix_journal_entries_plan_item_id"), "journal_entries", ["plan_item_id"])
    op.create_index(op.f("ix_journal_entries_student_id"), "journal_entries", ["student_id"])

    op.create_table(
        "plan_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("plan_item_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_plan_comments_author_id_users")),
        sa.ForeignKeyConstraint(["plan_item_id"], ["plan_items.id"], name=op.f("fk_plan_comments_plan_item_id_plan_items"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], name=op.f("fk_plan_comments_student_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_comments")),
        sa.UniqueConstraint("public_id", name=op.f("uq_plan_comments_public_id")),
    )
    op.create_index(op.f("ix_plan_comments_author_id"), "plan_comments", ["author_id"])
    op.create_index(op.f("ix_plan_comments_plan_item_id"), "plan_comments", ["plan_item_id"])
    op.create_index(op.f("ix_plan_comments_student_id"), "plan_comments", ["student_id"])

    op.create_table(
        "self_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("rubric_version_id", sa.Integer(), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("criterion_notes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rubric_version_id"], ["rubric_versions.id"], name=op.f("fk_self_assessments_rubric_version_id_rubric_versions")),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], name=op.f("fk_self_assessments_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_assessments")),
        sa.UniqueConstraint("submission_id", "round", name=op.f("uq_self_assessments_submission_id")),
    )
    op.create_index(op.f("ix_self_assessments_submission_id"), "self_assessments", ["submission_id"])

    op.create_table(
        "peer_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("commented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["hidden_by_id"], ["users.id"], name=op.f("fk_peer_reviews_hidden_by_id_users")),
        sa.ForeignKeyConstraint(["peer_id"], ["users.id"], name=op.f("fk_peer_reviews_peer_id_users")),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], name=op.f("fk_peer_reviews_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_reviews")),
        sa.UniqueConstraint("public_id", name=op.f("uq_peer_reviews_public_id")),
        sa.UniqueConstraint("submission_id", "peer_id", name=op.f("uq_peer_reviews_submission_id")),
    )
    op.create_index(op.f("ix_peer_reviews_peer_id"), "peer_reviews", ["peer_id"])
    op.create_index(op.f("ix_peer_reviews_submission_id"), "peer_reviews", ["submission_id"])

    op.create_table(
        "signal_thresholds",
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("quiet_days", sa.Integer(), nullable=False),
        sa.Column("revision_rounds", sa.Integer(), nullable=False),
        sa.Column("calibration_gap", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_signal_thresholds_issuer_id_issuers")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_signal_thresholds_updated_by_id_users")),
        sa.PrimaryKeyConstraint("issuer_id", name=op.f("pk_signal_thresholds")),
    )


def downgrade():
    for table in (
        "signal_thresholds",
        "peer_reviews",
        "self_assessments",
        "plan_comments",
        "journal_entries",
        "plan_items",
        "publication_consents",
        "guardian_invitation_students",
        "guardian_links",
    ):
        op.drop_table(table)
    with op.batch_alter_table("competencies") as batch:
        batch.drop_column("peer_reviewers")
    with op.batch_alter_table("portfolios") as batch:
        batch.drop_column("shared_with_guardians")
    with op.batch_alter_table("issuers") as batch:
        batch.drop_column("minor_below_age")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(batch.f("ck_users_role"), type_="check")
        batch.create_check_constraint(batch.f("ck_users_role"), OLD_ROLES)
        batch.drop_column("birth_date")
        batch.drop_column("minor")
