"""The plan and journal pages' forms (WTForms): an item's date and milestones, the up/down
buttons, a journal entry, a reader's comment; and the choose page's picks, whose fields are
named after each competency (``date-<public id>``), read by :func:`chosen`."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import BooleanField, StringField, TextAreaField

from portfolio.core.i18n import lazy_gettext as _l
from portfolio.evidence.forms import PageForm
from portfolio.planning.service import Choice, EntryValues, PlanError


def parse_date(raw: str | None, *, field: str) -> date | None:
    """A date as a date field sends it (``YYYY-MM-DD``); None when blank.  Raises
    :class:`PlanError` naming ``field``."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PlanError(
            _l("Enter the date as year-month-day, for example 2027-03-31."), field=field
        ) from None


def chosen(form: MultiDict[str, str]) -> list[Choice]:
    """The competencies ticked on the choose page (``chosen``), each with its date and
    milestones.  Raises :class:`PlanError` for a date that is not one."""
    picks = []
    for public_id in dict.fromkeys(form.getlist("chosen")):
        picks.append(
            Choice(
                public_id=public_id,
                target_date=parse_date(form.get(f"date-{public_id}"), field=f"{public_id}-date"),
                milestones=form.get(f"milestones-{public_id}", ""),
            )
        )
    return picks


class ItemForm(PageForm):
    """A plan item's target date and milestones."""

    target_date = StringField()
    milestones = TextAreaField()

    def date(self) -> date | None:
        return parse_date(self.target_date.data, field="target_date")


class MoveForm(PageForm):
    """Move an item ``up`` or ``down``."""

    direction = StringField()


class EntryForm(PageForm):
    """A journal entry: title, body, the plan item it is attached to, a recording."""

    title = StringField()
    body = TextAreaField()
    plan_item = StringField()
    audio = FileField()
    remove_audio = BooleanField()

    def values(self) -> EntryValues:
        upload = self.audio.data if isinstance(self.audio.data, FileStorage) else None
        return EntryValues(
            title=self.title.data or "",
            body=self.body.data or "",
            plan_item=self.plan_item.data or None,
            audio=upload,
            remove_audio=bool(self.remove_audio.data),
        )

    def as_values(self) -> dict[str, Any]:
        """What was sent, to show the form again."""
        return {
            "title": self.title.data or "",
            "body": self.body.data or "",
            "plan_item": self.plan_item.data or "",
        }


class CommentForm(PageForm):
    """A reader's comment: on one item (``item``: its public id) or on the whole plan."""

    body = TextAreaField()
    item = StringField()
