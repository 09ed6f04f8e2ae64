"""The forms of the assessment pages: a submission's evidence and note, the queue's filters,
an assessor's judgement, a standalone endorsement, and the cohort view's filters.

No validators here that the pages did not have: the service says what is wrong (its messages
are the pages'), the forms read the fields and check the CSRF token of a POST.
"""

from __future__ import annotations

from typing import Any, Self, cast

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from portfolio.assessment.progress import (
    Catalogue,
    CohortFilter,
    parse_cohort,
    parse_competency,
    parse_flagged,
    parse_page,
    parse_weeks,
)
from portfolio.core.numbers import whole_number

#: "Waiting at least" in the queue: a number of days up to about ten years.
MAX_AGE_DAYS = 3650


def _text(field: Field) -> str:
    """A text field's value as posted ("" when it was not)."""
    return str(field.data or "")


def echo(form: Any) -> dict[str, Any]:
    """The values of ``form`` by input name (``level-0``, ``feedback``...), for a template
    that shows what was sent (Jinja escapes them; "" for a field not sent).  The CSRF token is
    left out."""
    return {
        field.name: "" if field.data is None else field.data
        for field in form
        if field.name != "csrf_token"
    }


def sentence(message: str) -> str:
    """A service's refusal as the page says it: capitalized, with a full stop."""
    return message[:1].upper() + message[1:] + "."


class EvidenceForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """A submission's evidence (public ids, in order) and note; ``action`` is ``submit`` to
    send it for assessment."""

    evidence = SelectMultipleField(validate_choice=False)
    note = TextAreaField()
    action = StringField()

    @property
    def submitting(self) -> bool:
        return bool(self.action.data == "submit")


class NewSubmissionForm(EvidenceForm):
    """A new submission: the competency (its public id) too."""

    competency = StringField()

    def values(self) -> dict[str, Any]:
        """What the page shows back: the competency, the evidence chosen and the note."""
        return {
            "competency": _text(self.competency),
            "evidence": list(self.evidence.data or []),
            "note": _text(self.note),
        }


class QueueFilterForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """The assessment queue's filters (a GET form): competency, cohort, and how many days a
    submission has waited at least."""

    class Meta:
        csrf = False

    competency = StringField()
    cohort = StringField()
    age = StringField()

    def validate_age(self, field: Field) -> None:
        if not field.data:
            return
        if whole_number(field.data, at_most=MAX_AGE_DAYS) is None:
            raise ValidationError(
                _(
                    "“Waiting at least” is a number of days from 0 to %(most)d.",
                    most=MAX_AGE_DAYS,
                )
            )

    def filters(self) -> tuple[dict[str, str], str | None]:
        """The filters, and the message when one is not valid (that one is then left out)."""
        values = {
            "competency": _text(self.competency),
            "cohort": _text(self.cohort),
            "age": _text(self.age),
        }
        self.validate()
        error = self.age.errors[0] if self.age.errors else None
        if error:
            values["age"] = ""
        return values, error


class JudgementForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """A rubric judgement: a level (``level-<i>``) and feedback (``feedback-<i>``) per
    criterion, and the overall ``feedback``.  Make the class for a rubric with
    :meth:`for_criteria`."""

    feedback = TextAreaField()
    #: How many criteria the rubric has (the ``level-<i>`` fields).
    criteria = 0

    @classmethod
    def for_criteria(cls, count: int) -> type[Self]:
        """The form class with the fields of ``count`` criteria (WTForms' way of making a form
        whose fields depend on the data: a subclass)."""
        fields: dict[str, Any] = {"criteria": count}
        for index in range(count):
            fields[f"level_{index}"] = StringField(name=f"level-{index}")
            fields[f"feedback_{index}"] = TextAreaField(name=f"feedback-{index}")
        return cast("type[Self]", type(cls.__name__, (cls,), fields))

    def levels(self) -> list[str]:
        """The level chosen per criterion, as sent ("" when none was)."""
        return [_text(self[f"level_{index}"]) for index in range(self.criteria)]

    def criterion_feedback(self) -> list[str]:
        """The feedback per criterion, as sent."""
        return [_text(self[f"feedback_{index}"]) for index in range(self.criteria)]

    def overall_feedback(self) -> str:
        return _text(self.feedback)


class AssessForm(JudgementForm):
    """An assessor's judgement of a submission and their decision."""

    decision = StringField()


class EndorseForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """A standalone endorsement of a competency: its public id and the comment."""

    competency = StringField()
    comment = TextAreaField()


class CohortFilterForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """The cohort view's filters (a GET form): cohort, competency, weeks without progress and
    the page of the matrix."""

    class Meta:
        csrf = False

    cohort = StringField()
    competency = StringField()
    weeks = StringField()
    page = StringField()
    flagged = StringField()

    def parsed(self, catalogue: Catalogue) -> tuple[CohortFilter, int, int]:
        """(filters, weeks, page).  Raises
        :class:`~portfolio.assessment.progress.CohortFilterError` for the first field that
        cannot be used."""
        filters = CohortFilter(
            cohort=parse_cohort(self.cohort.data),
            competency=parse_competency(self.competency.data, catalogue),
            flagged=parse_flagged(self.flagged.data),
        )
        return filters, parse_weeks(self.weeks.data), parse_page(self.page.data)

    def values(self) -> dict[str, str]:
        """What the filter form shows: the query as sent (Jinja escapes it)."""
        return {
            name: _text(self[name])[:200] for name in ("cohort", "competency", "weeks", "flagged")
        }


class PeerAskForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """Ask a classmate (``peer``: the classmate's account id) for comments."""

    peer = StringField()

    def peer_id(self) -> int | None:
        """The classmate's id as sent (None when it is not a whole number)."""
        return whole_number(_text(self.peer), at_most=2**62)


class PeerCommentForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """A peer's comment on a submission (Markdown)."""

    comment = TextAreaField()


class HideCommentForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """Staff hide a peer's comment: the reason the student and the peer will read."""

    reason = TextAreaField()
