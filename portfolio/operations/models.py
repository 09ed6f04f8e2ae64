"""What the servers of one deployment must agree on, recorded in the database they share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.core.db import Model, UTCDateTime
from portfolio.core.models import utcnow


class SecretFingerprint(Model):
    """A non-secret fingerprint of a secret every server must share (the session secret, the
    key-encryption secret), recorded by the first server that starts (issue 18 §3)."""

    __tablename__ = "secret_fingerprints"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
