"""Portfolios: sections of evidence, and how they are shared."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.core.db import Model, UTCDateTime, one_of
from portfolio.core.models import new_public_id, utcnow

if TYPE_CHECKING:
    from portfolio.accounts.models import User
    from portfolio.evidence.models import Evidence


class Visibility(StrEnum):
    """Who may see a portfolio: only its owner, anyone holding its link, or everyone."""

    PRIVATE = "private"
    LINK = "link"
    PUBLIC = "public"


class Portfolio(Model):
    """A student's arrangement of evidence, private, shared by an unguessable link, or public."""

    __tablename__ = "portfolios"
    __table_args__ = (one_of("visibility", Visibility, name="visibility"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    cover_text: Mapped[str] = mapped_column(Text, default="")
    #: A :class:`Visibility`.
    visibility: Mapped[str] = mapped_column(String(8), default=Visibility.PRIVATE)
    #: The secret part of an anyone-with-the-link URL; None when no link is shared (revoked).
    share_slug: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The owner shows this portfolio to her linked guardians (read only), whatever its
    #: visibility: a private portfolio can be shared with family alone.
    shared_with_guardians: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()
    sections: Mapped[list[PortfolioSection]] = relationship(
        back_populates="portfolio",
        order_by="PortfolioSection.position",
        cascade="all, delete-orphan",
    )


class PortfolioSection(Model):
    """A titled, ordered group of evidence inside a portfolio."""

    __tablename__ = "portfolio_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    position: Mapped[int] = mapped_column(Integer, default=0)

    portfolio: Mapped[Portfolio] = relationship(back_populates="sections")
    items: Mapped[list[PortfolioItem]] = relationship(
        back_populates="section", order_by="PortfolioItem.position", cascade="all, delete-orphan"
    )


class PortfolioItem(Model):
    """One piece of evidence placed in a section, at a position."""

    __tablename__ = "portfolio_items"
    __table_args__ = (UniqueConstraint("section_id", "evidence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("portfolio_sections.id"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    section: Mapped[PortfolioSection] = relationship(back_populates="items")
    evidence: Mapped[Evidence] = relationship(back_populates="placements")
