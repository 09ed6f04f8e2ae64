"""What the assessment flow refuses: one class per kind of refusal, each an
:class:`AssessmentError` (callers catch them together) and a kind of :mod:`portfolio.core.errors`
(:func:`~portfolio.core.errors.status_for` gives its HTTP status)."""

from __future__ import annotations

from portfolio.core.errors import (
    ConflictError,
    InvalidInputError,
    NotAllowedError,
    NotFoundError,
)


class AssessmentError(InvalidInputError):
    """A request the flow refuses as given: an incomplete or inconsistent judgement, a note too
    long, evidence missing... (the message is safe to show)."""

    code = "INVALID"


class AssessmentNotFoundError(AssessmentError, NotFoundError):
    """No such submission or competency — or one the asker may not know of."""

    code = "NOT_FOUND"


class AssessmentNotAllowedError(AssessmentError, NotAllowedError):
    """The asker may not do this at all (e.g. someone who is not a student submitting)."""

    code = "FORBIDDEN"


class AssessmentConflictError(AssessmentError, ConflictError):
    """The submission's state does not allow it (``WRONG_STATE``), this assessor already judged
    the round (``DUPLICATE``), the competency is mastered already (``MASTERED``), or the
    submission changed meanwhile (``CONFLICT``)."""

    code = "CONFLICT"
