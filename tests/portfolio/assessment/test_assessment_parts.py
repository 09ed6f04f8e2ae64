"""The small parts of the assessment package: the state groups and labels written from the
enumerations, the forms that read the pages' fields, the judgement check, the CSV text, and
the error kinds (and so the statuses) of the flow's refusals."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from portfolio.assessment import errors, states
from portfolio.assessment.forms import (
    AssessForm,
    CohortFilterForm,
    QueueFilterForm,
    echo,
    sentence,
)
from portfolio.assessment.judgement import check_judgement
from portfolio.assessment.models import Decision, SubmissionState
from portfolio.assessment.progress import Catalogue, CohortFilterError, CompetencyInfo
from portfolio.assessment.progress_csv import CSV_BOM, CSV_HEADER, csv_chunks
from portfolio.core.errors import status_for


def test_every_state_and_decision_has_a_label_and_the_groups_split_the_states() -> None:
    assert set(states.STATE_LABELS) == set(SubmissionState)
    assert set(states.DECISION_LABELS) == set(Decision)
    assert states.STATE_LABELS["revision_requested"] == "Revision requested"  # stored strings
    groups = [states.AWAITING_ASSESSMENT, states.EDITABLE, states.FINAL]
    assert sorted(s for group in groups for s in group) == sorted(SubmissionState)
    assert set(states.FEEDBACK_WAITING) <= set(states.EDITABLE) | set(states.FINAL)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.AssessmentError("x"), 422),
        (errors.AssessmentNotFoundError("x"), 404),
        (errors.AssessmentNotAllowedError("x"), 403),
        (errors.AssessmentConflictError("x", code="WRONG_STATE"), 409),
    ],
)
def test_each_refusal_is_an_assessment_error_with_the_status_of_its_kind(
    error: errors.AssessmentError, status: int
) -> None:
    assert isinstance(error, errors.AssessmentError)
    assert status_for(error) == status


def test_the_judgement_check_says_what_is_missing() -> None:
    with pytest.raises(errors.AssessmentError, match="choose a decision"):
        check_judgement(None, (), (), "", "maybe")
    with pytest.raises(errors.AssessmentError, match="what to improve"):
        check_judgement(None, (), (), "  ", Decision.REVISE)
    judgement = check_judgement(None, (), (), "  Well done  ", Decision.ENDORSE)
    assert (judgement.levels, judgement.criterion_feedback, judgement.feedback) == (
        [],
        [],
        "Well done",
    )


def test_a_judgement_form_reads_a_level_and_feedback_per_criterion(app: Any) -> None:
    posted = MultiDict(
        [
            ("decision", "revise"),
            ("feedback", "Overall"),
            ("level-1", "2"),
            ("feedback-0", "First"),
            ("level-7", "3"),  # not a criterion of this rubric: ignored
        ]
    )
    with app.test_request_context(method="POST", data=posted):
        form = AssessForm.for_criteria(2)()
        assert form.levels() == ["", "2"]
        assert form.criterion_feedback() == ["First", ""]
        assert form.overall_feedback() == "Overall"
        assert echo(form) == {
            "feedback": "Overall",
            "decision": "revise",
            "level-0": "",
            "feedback-0": "First",
            "level-1": "2",
            "feedback-1": "",
        }


def test_the_queue_filter_refuses_an_age_that_is_not_a_number_of_days(app: Any) -> None:
    with app.test_request_context("/review?age=abc&cohort=Y9"):
        form = QueueFilterForm(formdata=MultiDict({"age": "abc", "cohort": "Y9"}))
        values, error = form.filters()
    assert values == {"competency": "", "cohort": "Y9", "age": ""}
    assert error == "“Waiting at least” is a number of days from 0 to 3650."
    with app.test_request_context("/review?age=7"):
        assert QueueFilterForm(formdata=MultiDict({"age": "7"})).filters() == (
            {"competency": "", "cohort": "", "age": "7"},
            None,
        )


def test_the_cohort_filters_are_parsed_and_the_first_bad_one_is_named(app: Any) -> None:
    catalogue = Catalogue((CompetencyInfo(1, "c-1", "Melody"),))
    with app.test_request_context("/cohort"):
        form = CohortFilterForm(formdata=MultiDict({"competency": "c-1", "weeks": "4"}))
        filters, weeks, page = form.parsed(catalogue)
        assert (filters.competency, weeks, page) == (catalogue.find("c-1"), 4, 1)
        bad = CohortFilterForm(formdata=MultiDict({"competency": "nope", "weeks": "99"}))
        with pytest.raises(CohortFilterError) as refused:
            bad.parsed(catalogue)
        assert refused.value.field == "competency"
        assert bad.values() == {"cohort": "", "competency": "nope", "weeks": "99", "flagged": ""}


def test_a_refusal_reads_as_a_sentence() -> None:
    assert sentence("choose at least one piece of evidence") == (
        "Choose at least one piece of evidence."
    )


def test_the_csv_text_starts_with_a_bom_and_the_header_and_comes_in_pieces() -> None:
    rows = [[f"student {i}", "", "", "", "", "", ""] for i in range(10_000)]
    pieces = list(csv_chunks(iter(rows)))
    assert len(pieces) > 1
    text = "".join(pieces)
    assert text.startswith(CSV_BOM)
    parsed = list(csv.reader(io.StringIO(text.removeprefix(CSV_BOM))))
    assert tuple(parsed[0]) == CSV_HEADER
    assert len(parsed) == 10_001 and parsed[-1][0] == "student 9999"
