"""Stack badges follow their components: when the credential of a competency is revoked, every
stack badge the student holds that the competency is a component of is revoked with it (and
stacks of those stacks, in turn), in the same transaction, each with a reason naming the
component, and the student is told of each.

Why revoke rather than flag to an administrator: a stack badge claims "mastered every
component", and its evidence links to the component credentials; once one of them is revoked
the claim is false and a verifier following the link sees so.  Revoking keeps every view and
every verifier consistent at once.  When the student earns the component again, the stack badge
is issued again by :func:`portfolio.assessment.endorsement.complete_stacks`.

A suspension does not follow: it is temporary (an inquiry), and the stack badge's own status is
left to an administrator; the progress views show the suspended component.

Registered as a status follower (:mod:`portfolio.issuing.status_changes`) in ``wsgi.py``.
"""

from __future__ import annotations

from sqlalchemy import select

from portfolio.assessment.models import Mastery
from portfolio.catalogue.models import Competency, StackComponent
from portfolio.core.db import db
from portfolio.issuing.models import IssuedCredential
from portfolio.issuing.status_changes import StatusChange, change_status_in_transaction


def revoke_stacks_with_component(change: StatusChange) -> None:
    """The follower: on a revocation, revoke the stack badges the revoked credential's
    mastery completed (each revocation runs the followers again: stacks of stacks)."""
    if change.action != "revoked":
        return
    masteries = db.session.scalars(
        select(Mastery).where(Mastery.credential_id == change.credential.id)
    ).all()
    for mastery in masteries:
        for badge in _held_stack_badges(mastery.student_id, mastery.competency_id):
            change_status_in_transaction(
                badge,
                "revoke",
                reason=stack_reason(mastery.competency.name, change.reason),
                actor=change.actor,
                config=change.config,
                outbox=change.outbox,
            )


def stack_reason(component_name: str, reason: str) -> str:
    """Why a stack badge was revoked: its component was, and that component's reason."""
    because = f": {reason}" if reason else ""
    return f"its component “{component_name}” was revoked{because}"


def _held_stack_badges(student_id: int, component_id: int) -> list[IssuedCredential]:
    """The stacks with ``component_id`` among their components whose badge the student holds
    (not revoked): those badges."""
    return list(
        db.session.scalars(
            select(IssuedCredential)
            .select_from(Competency)
            .join(StackComponent, StackComponent.stack_id == Competency.id)
            .join(Mastery, Mastery.competency_id == Competency.id)
            .join(IssuedCredential, IssuedCredential.id == Mastery.credential_id)
            .where(
                StackComponent.component_id == component_id,
                Competency.is_stack.is_(True),
                Mastery.student_id == student_id,
                IssuedCredential.revoked_at.is_(None),
            )
            .order_by(Competency.id)
        )
    )
