"""What bulk work refuses: a request refused as a whole (:class:`BulkError`), and one item that
cannot be done (:class:`ItemProblem`: that item fails, the job goes on)."""

from __future__ import annotations

from portfolio.core.errors import InvalidInputError, NotFoundError


class BulkError(InvalidInputError):
    """A bulk request refused as a whole (an empty cohort, an inconsistent judgement...); the
    message is safe to show."""


class BulkNotFoundError(BulkError, NotFoundError):
    """No such competency for the asker to endorse (another issuer's reads the same)."""


class ItemProblem(InvalidInputError):
    """An item that cannot be done: it is marked failed with this message, the job goes on."""
