"""The audit log of security-relevant events (issue #7): who did what to what, when, from where.

:func:`record` adds an :class:`~portfolio.core.models.AuditEvent` to the current session without
committing, so the event is written in the same transaction as the change it records (or not at
all).  Events are never updated or deleted by the application.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request

from portfolio.core.db import db
from portfolio.core.models import AuditEvent

if TYPE_CHECKING:
    from portfolio.accounts.models import User

#: The actions recorded; a new kind of event is added here first.
ACTIONS = frozenset(
    {
        "sign_in",
        "sign_in_failed",
        "sign_in_locked",
        "sign_out",
        "sign_out_everywhere",
        "password_changed",
        "password_reset_requested",
        "invitation_sent",
        "account_created",
        "role_changed",
        "account_disabled",
        "account_deleted",
        "data_exported",
        "credential_issued",
        "credential_revoked",
        "credential_suspended",
        "credential_unsuspended",
        "key_created",
        "key_rotated",
        "key_revoked",
        "portfolio_exported",
        "catalogue_imported",
        "audit_exported",
        # Exports and the key compromise procedure (portfolio/issuing/key_compromise.py).
        "catalogue_exported",
        "cohort_exported",
        "credential_reissued",
        "key_compromised",
        # Backups of the whole instance (portfolio/operations/cli.py).
        "backup_created",
        "backup_restored",
        # Bulk jobs (portfolio/bulk/kinds.py).
        "bulk_job_started",
        # Issuer trust and recipient identity (portfolio/issuing/trust.py, school_settings.py).
        "trusted_issuer_added",
        "trusted_issuer_removed",
        "recipient_identity_changed",
        # Evidence frozen in credentials (portfolio/evidence/snapshots.py) and a learner asking
        # for their credential to be revoked (portfolio/learner/revocation_requests.py).
        "evidence_withdrawn",
        "evidence_republished",
        "frozen_evidence_deleted",
        "revocation_requested",
        # An issuer's status options (portfolio/issuing/status_options.py).
        "issuer_suspension_changed",
        # An issuer's profile (portfolio/issuing/issuer_profile.py).
        "issuer_profile_changed",
        # A person's language (portfolio/accounts/service.py, save_profile).
        "language_changed",
        # Learner agency (issue 17): guardians and consent (portfolio/guardians/), what
        # guardians read and write (portfolio/family/, portfolio/planning/), peer comments'
        # moderation and the early signals' thresholds (portfolio/assessment/).
        "guardian_linked",
        "guardian_unlinked",
        "guardian_viewed",
        "minor_status_changed",
        "consent_given",
        "consent_withdrawn",
        "plan_commented",
        "peer_comment_hidden",
        "signal_thresholds_changed",
    }
)


def record(
    action: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    issuer_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller commits).  Raises ``ValueError`` for an
    action that is not in :data:`ACTIONS`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if issuer_id is None and actor is not None:
        issuer_id = actor.issuer_id
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor_label,
        issuer_id=issuer_id,
        target=target,
        detail=detail or {},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
