"""The audit log's actions in words, for people (the administrators' home and log pages).
The stored action names (``credential_revoked``) stay as they are in the exports."""

from __future__ import annotations

from flask_babel import LazyString

from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import AuditEvent

ACTION_LABELS: dict[str, LazyString] = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Failed sign-in"),
    "sign_in_locked": _l("Sign-in locked after failed attempts"),
    "sign_out": _l("Signed out"),
    "sign_out_everywhere": _l("Signed out everywhere"),
    "password_changed": _l("Password changed"),
    "password_reset_requested": _l("Password reset requested"),
    "invitation_sent": _l("Invitation sent"),
    "account_created": _l("Account created"),
    "role_changed": _l("Role changed"),
    "account_disabled": _l("Account disabled"),
    "account_deleted": _l("Account deleted"),
    "data_exported": _l("Personal data exported"),
    "credential_issued": _l("Credential issued"),
    "credential_revoked": _l("Credential revoked"),
    "credential_suspended": _l("Credential suspended"),
    "credential_unsuspended": _l("Credential suspension lifted"),
    "key_created": _l("Signing key created"),
    "key_rotated": _l("Signing key rotated"),
    "key_revoked": _l("Signing key revoked"),
    "portfolio_exported": _l("Portfolio exported"),
    "catalogue_imported": _l("Catalogue imported"),
    "audit_exported": _l("Audit log downloaded"),
    "catalogue_exported": _l("Catalogue exported"),
    "cohort_exported": _l("Cohort exported"),
    "credential_reissued": _l("Credential reissued"),
    "key_compromised": _l("Signing key reported compromised"),
    "backup_created": _l("Backup created"),
    "backup_restored": _l("Backup restored"),
    "bulk_job_started": _l("Bulk job started"),
    "trusted_issuer_added": _l("Trusted issuer added"),
    "trusted_issuer_removed": _l("Trusted issuer removed"),
    "recipient_identity_changed": _l("Recipient identity setting changed"),
    "evidence_withdrawn": _l("Evidence withdrawn from public view"),
    "evidence_republished": _l("Evidence shown publicly again"),
    "frozen_evidence_deleted": _l("Frozen evidence deleted"),
    "revocation_requested": _l("Revocation requested by a learner"),
    "issuer_suspension_changed": _l("Suspension setting changed"),
    "issuer_profile_changed": _l("Issuer profile changed"),
    "language_changed": _l("Language changed"),
    "guardian_linked": _l("Guardian linked to a student"),
    "guardian_unlinked": _l("Guardian unlinked from a student"),
    "guardian_viewed": _l("Guardian viewed a student's page"),
    "minor_status_changed": _l("Minor status changed"),
    "consent_given": _l("Publication consent given"),
    "consent_withdrawn": _l("Publication consent withdrawn"),
    "plan_commented": _l("Comment on a learning plan"),
    "peer_comment_hidden": _l("Peer comment hidden"),
    "signal_thresholds_changed": _l("Early signal thresholds changed"),
}


def action_label(action: str) -> str:
    """``credential_revoked`` → "Credential revoked" (in the reader's language); an action
    without words (none today) is shown as stored."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def event_label(event: AuditEvent) -> str:
    """The event's action in words."""
    return action_label(event.action)
