"""The verdict generation: one token in the database that changes, in the same transaction,
with every change that can change how one of our credentials verifies — revocation,
suspension and unsuspension (``service.set_status_in_transaction``), key creation, rotation and
revocation (``keystore.SqlKeyStore``), and the trust list (``trust``).

A cached verdict (portfolio/public/verdict_cache.py) is kept under the token current when it
was computed, and every worker reads the token on each view: once any worker commits a change,
no worker shows a verdict from before it.  Tokens are random (not a counter), so a database
restored from a backup never meets a verdict cached under the same token for another state.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update

from portfolio.core.db import db
from portfolio.core.models import utcnow
from portfolio.issuing.models import VerdictGeneration

ROW_ID = 1
#: The token before any change was ever recorded (no row yet).
INITIAL = "initial"


def current() -> str:
    """The token now (one primary-key read; call it on every view that uses a cached verdict)."""
    token = db.session.scalar(select(VerdictGeneration.token).where(VerdictGeneration.id == ROW_ID))
    return token or INITIAL


def bump() -> None:
    """Give the generation a new token, inside the caller's transaction (it commits or rolls
    back with the change it stands for).

    Nothing pending in the session is flushed here: the caller's own conflicts (a second
    active key...) still surface at its commit, where it turns them into its own errors.
    """
    token, now = secrets.token_hex(16), utcnow()
    with db.session.no_autoflush:
        changed = db.session.execute(
            update(VerdictGeneration)
            .where(VerdictGeneration.id == ROW_ID)
            .values(token=token, changed_at=now)
            .execution_options(synchronize_session=False)
        )
        if not getattr(changed, "rowcount", 0):
            # The very first change ever: the row is created with it.  (Two first changes at
            # the same instant would conflict on the primary key: the second one is refused
            # and retried by its caller like any write conflict.)
            db.session.add(VerdictGeneration(id=ROW_ID, token=token, changed_at=now))
