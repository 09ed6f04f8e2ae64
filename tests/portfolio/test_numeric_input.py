"""Numbers in request input (issue 15 §5): every conversion of a query parameter, form field or
header to a number refuses what is not a plain whole number in range with a 4xx and a readable
message — 5,000 digits (more than Python converts), digits of other scripts (``int("٣")`` is 3,
``"²".isdigit()`` is true), numbers past a database integer — and never answers 500."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from portfolio.assessment.models import Submission
from portfolio.core.db import db
from portfolio.core.numbers import MAX_ID, whole_number
from tests.portfolio.assessment.test_assessment_pages import (
    assess_form,
    client_for,
    submit_through_the_form,
)
from tests.portfolio.school import make_school

HUGE = "9" * 5000
PAST_A_DATABASE_INTEGER = "99999999999999999999"
#: Arabic-Indic three, superscript two, full-width seven: digits to ``str.isdigit()``.
OTHER_DIGITS = ["٣", "²", "７"]
BAD_NUMBERS = [HUGE, PAST_A_DATABASE_INTEGER, *OTHER_DIGITS, "-1", "1_0", "+1", "1e3", "0x10"]


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return make_school(issuer)


def readable_refusal(response: Any) -> str:
    """The body of a 4xx answer, checked to be a page or JSON without internals."""
    body = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, body[:300])
    assert "Traceback" not in body and "sqlalchemy" not in body.lower()
    return body


# -- the one conversion -------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*BAD_NUMBERS, "", " ", None, "2147483648"])
def test_whole_number_refuses_what_is_not_a_plain_number_in_range(text: str | None) -> None:
    assert whole_number(text, at_most=MAX_ID) is None


@pytest.mark.parametrize(
    ("text", "value"), [("0", 0), (" 42 ", 42), ("007", 7), ("2147483647", MAX_ID)]
)
def test_whole_number_reads_plain_ascii_digits(text: str, value: int) -> None:
    assert whole_number(text, at_most=MAX_ID) == value


def test_whole_number_never_converts_thousands_of_leading_zeros_wrongly() -> None:
    assert whole_number("0" * 5000 + "5", at_most=10) == 5


# -- the pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", BAD_NUMBERS)
def test_a_rubric_level_that_is_not_a_level_is_refused_on_the_page(app, school, level) -> None:
    _, submission = submit_through_the_form(app, school)
    assessor = client_for(app, school.assessor)
    response = assessor.post(
        f"/review/{submission.public_id}/assess",
        data=assess_form([level, "1"], "revise"),  # type: ignore[list-item]
    )
    assert "level" in readable_refusal(response)
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).state == "submitted"  # nothing changed


@pytest.mark.parametrize("actor", [PAST_A_DATABASE_INTEGER, HUGE, *OTHER_DIGITS])
def test_the_audit_log_filter_takes_any_text_as_an_actor(app, school, actor) -> None:
    admin = client_for(app, school.admin)
    response = admin.get("/admin/audit", query_string={"actor": actor})
    assert response.status_code == 200  # a search that finds nothing, not a 500
    assert admin.get("/admin/audit.csv", query_string={"actor": actor}).status_code == 200


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("parameter", ["weeks", "page"])
def test_the_cohort_view_refuses_bad_numbers(app, school, parameter, value) -> None:
    assessor = client_for(app, school.assessor)
    for path in ("/cohort", "/cohort.csv"):
        readable_refusal(assessor.get(path, query_string={parameter: value}))


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_the_review_queue_refuses_a_bad_waiting_age(app, school, value) -> None:
    assessor = client_for(app, school.assessor)
    response = assessor.get("/review", query_string={"age": value})
    assert "number of days" in readable_refusal(response)


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_a_job_s_page_number_refuses_bad_numbers(app, value) -> None:
    from werkzeug.datastructures import MultiDict

    from portfolio.bulk.forms import PageForm

    with app.test_request_context(), pytest.raises(ValueError, match="page must be"):
        PageForm(formdata=MultiDict({"page": value})).number()


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_the_credentials_list_refuses_a_bad_page(app, school, value) -> None:
    admin = client_for(app, school.admin)
    response = admin.get("/admin/credentials", query_string={"page": value})
    assert response.status_code < 500 and "Traceback" not in response.get_data(as_text=True)
