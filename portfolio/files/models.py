"""The content-addressed blobs that uploaded files are stored as."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.core.db import Model, UTCDateTime
from portfolio.core.models import utcnow


class Blob(Model):
    """Uploaded content, stored once per SHA-256 (content-addressed) in the storage backend."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
