"""The forms of the bulk pages: endorsing a cohort (the competency first, as a GET form, then
the cohort and the judgement) and the page of a job's results."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField

from portfolio.assessment.forms import JudgementForm
from portfolio.core.numbers import whole_number
from portfolio.core.paging import MAX_PAGE


class CohortEndorseForm(JudgementForm):
    """The competency to endorse (its public id), the cohort, the students ticked (their ids;
    ``choosing`` says the boxes were shown, so that none ticked is not "the default"), the
    judgement recorded for every student (a level and feedback per criterion, the overall
    feedback), and the step: ``review`` (the confirm step), ``edit`` (back to the form) or
    ``confirm`` with the number of students the assessor confirmed."""

    competency = StringField()
    cohort = StringField()
    students = SelectMultipleField(validate_choice=False)
    choosing = StringField()
    action = StringField()
    confirm_count = StringField()

    def chosen_ids(self) -> list[str] | None:
        """The ids ticked, or None when the choice was not shown (the default choice)."""
        if not self.choosing.data:
            return None
        return [str(value) for value in self.students.data or []]


class PageForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """Which page of a job's per-row results to show (a GET parameter; 1 when absent)."""

    class Meta:
        csrf = False

    page = StringField()

    def number(self) -> int:
        """The page number.  Raises ``ValueError`` (with the message to show) for a page that
        is not a whole number of 1 or more."""
        raw = "1" if self.page.data is None else self.page.data
        page = whole_number(raw, at_most=MAX_PAGE)
        if page is None:
            raise ValueError(_("page must be a whole number from 1 to %(most)d", most=MAX_PAGE))
        if page < 1:
            raise ValueError(_("page must be 1 or more"))
        return page
