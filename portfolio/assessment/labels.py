"""The names of states and decisions as the assessment pages show them, in the reader's
language, and the pill tone of each state (the text is always shown: never colour alone).

The English dictionaries of :mod:`portfolio.assessment.states` and
:mod:`portfolio.assessment.progress` stay as they are (they are also written to the database,
to exports and to JSON); these are for pages only, made per request.
"""

from __future__ import annotations

from flask_babel import gettext as _

from portfolio.assessment import progress
from portfolio.assessment.models import Decision, SubmissionState

#: A submission state's pill (``pill-…`` in credfolio.css).
SUBMISSION_TONES: dict[str, str] = {
    SubmissionState.DRAFT: "muted",
    SubmissionState.SUBMITTED: "info",
    SubmissionState.IN_REVIEW: "info",
    SubmissionState.REVISION_REQUESTED: "warn",
    SubmissionState.RESUBMITTED: "info",
    SubmissionState.ENDORSED: "ok",
    SubmissionState.NOT_YET: "bad",
}
#: A (student, competency) progress state's pill.
PROGRESS_TONES: dict[str, str] = {
    progress.MASTERED: "ok",
    progress.SUSPENDED: "warn",
    progress.IN_REVIEW: "info",
    progress.IN_PROGRESS: "info",
    progress.REVOKED: "bad",
    progress.NOT_STARTED: "muted",
}


def submission_states() -> dict[str, str]:
    """A submission's states by name."""
    return {
        SubmissionState.DRAFT: _("Draft"),
        SubmissionState.SUBMITTED: _("Submitted"),
        SubmissionState.IN_REVIEW: _("In review"),
        SubmissionState.REVISION_REQUESTED: _("Revision requested"),
        SubmissionState.RESUBMITTED: _("Resubmitted"),
        SubmissionState.ENDORSED: _("Endorsed"),
        SubmissionState.NOT_YET: _("Not yet"),
    }


def decisions() -> dict[str, str]:
    """An assessor's decisions, as the choices of the review form."""
    return {
        Decision.ENDORSE: _("Endorse"),
        Decision.REVISE: _("Request a revision"),
        Decision.NOT_YET: _("Not yet"),
    }


def decided() -> dict[str, str]:
    """An assessment's decision, as the history of a submission tells it."""
    return {
        Decision.ENDORSE: _("Endorsed"),
        Decision.REVISE: _("Revision requested"),
        Decision.NOT_YET: _("“Not yet”"),
    }


def progress_states() -> dict[str, str]:
    """The states of a (student, competency) pair."""
    return {
        progress.MASTERED: _("Mastered"),
        progress.SUSPENDED: _("Suspended"),
        progress.IN_REVIEW: _("In review"),
        progress.IN_PROGRESS: _("In progress"),
        progress.REVOKED: _("Revoked"),
        progress.NOT_STARTED: _("Not started"),
    }
