"""Groups of submission states and the plain-language names of states and decisions, all
written from the enumerations of :mod:`portfolio.assessment.models`."""

from __future__ import annotations

from portfolio.assessment.models import Decision, SubmissionState

#: States in which assessors may judge a submission (the queue; the cohort view's "waiting").
AWAITING_ASSESSMENT = (
    SubmissionState.SUBMITTED,
    SubmissionState.RESUBMITTED,
    SubmissionState.IN_REVIEW,
)
#: States in which the student may change the evidence and note.
EDITABLE = (SubmissionState.DRAFT, SubmissionState.REVISION_REQUESTED)
#: States that end a submission.
FINAL = (SubmissionState.ENDORSED, SubmissionState.NOT_YET)
#: States in which assessor feedback waits for the student (work sent back, or "not yet").
FEEDBACK_WAITING = (SubmissionState.REVISION_REQUESTED, SubmissionState.NOT_YET)

STATE_LABELS: dict[str, str] = {
    SubmissionState.DRAFT: "Draft",
    SubmissionState.SUBMITTED: "Submitted",
    SubmissionState.IN_REVIEW: "In review",
    SubmissionState.REVISION_REQUESTED: "Revision requested",
    SubmissionState.RESUBMITTED: "Resubmitted",
    SubmissionState.ENDORSED: "Endorsed",
    SubmissionState.NOT_YET: "Not yet",
}
DECISION_LABELS: dict[str, str] = {
    Decision.ENDORSE: "Endorse",
    Decision.REVISE: "Request a revision",
    Decision.NOT_YET: "Not yet",
}
