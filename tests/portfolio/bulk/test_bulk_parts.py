"""The small parts of bulk work: the handler of each kind of job, the state groups and labels
written from the enumerations, the page-number form, and the error kinds of refusals."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from portfolio.bulk import errors, jobs, kinds, states
from portfolio.bulk.forms import PageForm
from portfolio.bulk.models import ItemState, JobState
from portfolio.core.errors import status_for


def test_each_kind_of_job_has_its_handler_and_an_unknown_kind_is_refused() -> None:
    assert jobs.handler(kinds.COHORT_ENDORSEMENT) is kinds.endorse_item
    assert jobs.handler(kinds.CSV_ISSUE) is kinds.issue_item
    assert set(kinds.KIND_LABELS) == set(kinds.HANDLERS)
    with pytest.raises(errors.BulkError, match="unknown kind of job 'nope'"):
        jobs.handler("nope")


def test_every_state_has_a_label_and_a_job_is_either_active_or_finished() -> None:
    assert set(states.JOB_STATE_LABELS) == set(JobState)
    assert set(states.ITEM_STATE_LABELS) == set(ItemState)
    assert sorted([*states.ACTIVE, *states.FINISHED]) == sorted(JobState)


def test_refusals_have_the_status_of_their_kind() -> None:
    assert status_for(errors.BulkError("the cohort has no students")) == 422
    assert status_for(errors.BulkNotFoundError("no such competency")) == 404
    assert isinstance(errors.BulkNotFoundError("x"), errors.BulkError)
    assert status_for(errors.ItemProblem("no longer a student")) == 422


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, 1),
        ({"page": "3"}, 3),
        ({"page": ""}, "page must be a whole number from 1 to"),
        ({"page": "0"}, "page must be 1 or more"),
    ],
)
def test_the_page_of_results_is_a_whole_number_of_1_or_more(
    app: Any, query: dict[str, str], expected: int | str
) -> None:
    with app.test_request_context("/jobs/x"):
        form = PageForm(formdata=MultiDict(query))
        if isinstance(expected, int):
            assert form.number() == expected
        else:
            with pytest.raises(ValueError, match=expected):
                form.number()
