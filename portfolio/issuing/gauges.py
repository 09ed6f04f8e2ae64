"""The credentials by state, counted in the database at each scrape of ``/metrics``: a
revocation made with ``credfolio credentials revoke`` or on another server shows at once."""

from __future__ import annotations

from sqlalchemy import case, func, select

from portfolio.core import metrics
from portfolio.core.db import db
from portfolio.issuing.models import IssuedCredential

STATES = ("active", "suspended", "revoked")


def credentials_by_state() -> dict[str, int]:
    state = case(
        (IssuedCredential.revoked_at.is_not(None), "revoked"),
        (IssuedCredential.suspended_at.is_not(None), "suspended"),
        else_="active",
    )
    counted = dict.fromkeys(STATES, 0)
    for name, count in db.session.execute(select(state, func.count()).group_by(state)):
        counted[str(name)] = int(count)
    return counted


metrics.database_gauge(
    metrics.DatabaseGauge(
        name="credfolio_credentials",
        documentation="Credentials issued by this deployment, by state (read from the database)",
        label="state",
        count=credentials_by_state,
    )
)
