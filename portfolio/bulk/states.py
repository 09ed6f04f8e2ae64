"""Groups of bulk job states and the plain-language names of job and item states, written
from the enumerations of :mod:`portfolio.bulk.models`."""

from __future__ import annotations

from portfolio.bulk.models import ItemState, JobState

#: Jobs that still have work to do ...
ACTIVE = (JobState.QUEUED, JobState.RUNNING)
#: ... and jobs that ended.
FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)

JOB_STATE_LABELS: dict[str, str] = {
    JobState.QUEUED: "Queued",
    JobState.RUNNING: "Running",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
}
ITEM_STATE_LABELS: dict[str, str] = {
    ItemState.PENDING: "Pending",
    ItemState.DONE: "Done",
    ItemState.SKIPPED: "Skipped",
    ItemState.FAILED: "Failed",
}
