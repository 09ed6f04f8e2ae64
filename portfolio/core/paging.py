"""Pages of a long list whose cost does not grow with the length of the list.

Flask-SQLAlchemy's ``paginate`` counts every matching row to print "page 3 of 20,000"; at a
million credentials (or audit events) that count is a scan of a million index entries on every
page view (``bench/scale.py`` measured it).  Here the count stops at a limit: up to it the
total is exact, beyond it the page says "more than 10,000".  Whether there is a next page is
known without counting, by reading one row more than the page shows.

Deep pages still cost what ``OFFSET`` costs (the rows skipped are read); page 1, the one
people look at, costs the same at any size when the order has an index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Select, func, literal, select

from portfolio.core.db import db

#: Counting stops here (``CREDFOLIO_LIST_COUNT_LIMIT`` changes it).
DEFAULT_COUNT_LIMIT = 10_000
#: Pages beyond this are empty without asking the database (an OFFSET past any real list; a
#: larger one would not fit the databases' integers).
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Page:
    """One page of a list.  ``total`` is exact unless ``total_is_lower_bound`` (then the list
    holds *more than* ``total`` rows); ``pages`` is None when the total is not known."""

    items: Sequence[Any]
    page: int
    per_page: int
    total: int
    total_is_lower_bound: bool
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def pages(self) -> int | None:
        if self.total_is_lower_bound:
            return None
        return max(-(-self.total // self.per_page), 1)

    @property
    def has_other_pages(self) -> bool:
        return self.has_prev or self.has_next


def init_app(app: Flask) -> None:
    """Check ``CREDFOLIO_LIST_COUNT_LIMIT`` once, at start-up: a bad value stops the app with
    a clear message rather than failing every list page."""
    app.config["CREDFOLIO_LIST_COUNT_LIMIT"] = parse_count_limit(
        app.config.get("CREDFOLIO_LIST_COUNT_LIMIT", DEFAULT_COUNT_LIMIT)
    )


def parse_count_limit(value: object) -> int:
    """A count limit from configuration: a whole number of at least 1."""
    try:
        limit = int(str(value).strip())
    except ValueError:
        limit = 0
    if limit < 1:
        raise ValueError(
            f"CREDFOLIO_LIST_COUNT_LIMIT must be a whole number of at least 1, not {value!r}"
        )
    return limit


def count_limit() -> int:
    """The configured limit of counting."""
    return int(current_app.config.get("CREDFOLIO_LIST_COUNT_LIMIT", DEFAULT_COUNT_LIMIT))


def paginate(statement: Select[Any], *, page: int, per_page: int, limit: int | None = None) -> Page:
    """Page ``page`` (1-based; smaller numbers mean 1) of ``statement``'s rows, which must
    already be ordered.  Counts at most ``limit`` rows (default: :func:`count_limit`)."""
    page = max(page, 1)
    limit = count_limit() if limit is None else limit
    rows: Sequence[Any] = []
    if page <= MAX_PAGE:
        offset = (page - 1) * per_page
        rows = db.session.scalars(statement.offset(offset).limit(per_page + 1)).all()
    has_next = len(rows) > per_page
    # The count of the first limit + 1 rows: more than the limit means "more than limit".
    # Selecting a constant lets PostgreSQL count from the index alone.
    capped = (
        statement.order_by(None)
        .with_only_columns(literal(1), maintain_column_froms=True)
        .limit(limit + 1)
        .subquery()
    )
    counted = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return Page(
        items=rows[:per_page],
        page=page,
        per_page=per_page,
        total=min(counted, limit),
        total_is_lower_bound=counted > limit,
        has_next=has_next,
    )
