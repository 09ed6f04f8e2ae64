"""The catalogue pages' forms (WTForms): a framework, a competency and its alignment rows, an image,
chosen competencies, the rubric grid and its state, the imports.  They read what was sent under the
templates' names; the checks are the catalogue's rules (fields, service, rubrics)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectMultipleField,
    StringField,
)
from wtforms.utils import unset_value

from portfolio.catalogue import rubrics
from portfolio.catalogue.csv_io import format_number
from portfolio.catalogue.fields import ALIGNMENT_PARTS, MAX_ALIGNMENTS, alignment_row
from portfolio.catalogue.models import Competency, RubricVersion

# -- building blocks -------------------------------------------------------------------------


class PageForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF has no type hints: FlaskForm is Any
    """A form of the catalogue pages (the request's form and files).  CSRF tokens are checked
    for every POST by ``CSRFProtect`` before any view runs, so the forms do not check them
    again."""

    class Meta:
        csrf = False  # CSRFProtect has checked the token of every POST before the view ran


class RowForm(Form):  # type: ignore[misc]  # WTForms has no type hints: Form is Any
    """The fields of one row of a grid (``<list>-<row>-<field>``)."""


class Rows(FieldList):  # type: ignore[misc]  # WTForms has no type hints: FieldList is Any
    """The rows ``<name>-0`` … ``<name>-<n - 1>`` of a grid, as many as the form's own count
    field says (the form calls :meth:`fill` once it has read that count): a row whose fields
    were not sent is blank, and fields of rows past the count are ignored, however the sent
    names are numbered."""

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.entries: list[Any] = []  # the form fills the rows once it knows how many (fill)
        self.last_index = -1

    def fill(self, formdata: Any, rows: int) -> None:
        """Read rows 0 to ``rows`` - 1 from ``formdata`` (None: blank rows)."""
        self.entries = []
        self.last_index = -1
        for index in range(rows):
            self._add_entry(formdata, index=index)

    def rows(self) -> list[Any]:
        """Each row's data: a dict of its fields for rows of a :class:`RowForm`."""
        return [entry.data for entry in self.entries]


def _text() -> Any:
    """A text field that reads as ``""`` when it was not sent."""
    return StringField(default="")


def _count(field: Any, lowest: int, highest: int) -> int:
    """An integer field's value within ``lowest``–``highest`` (``lowest`` when it is not one)."""
    value = field.data if isinstance(field.data, int) else lowest
    return max(lowest, min(value, highest))


def uploaded_file(field: Any) -> FileStorage | None:
    """The file a file field holds, or None when no file was chosen."""
    upload = field.data
    return upload if isinstance(upload, FileStorage) and upload.filename else None


# -- frameworks and competencies -------------------------------------------------------------


class FrameworkForm(PageForm):
    """A new framework: its title and description."""

    title = _text()
    framework_description = _text()


#: The competency form's text fields, by name (``state`` keeps them as typed).
COMPETENCY_TEXT_FIELDS = (
    "identifier",
    "name",
    "description",
    "criteria_narrative",
    "achievement_type",
    "tags",
    "level",
    "credits",
    "human_code",
    "required_endorsements",
    "peer_reviewers",
    "framework",
)


class NewCompetencyQuery(PageForm):
    """The new-competency page's query string: ``framework`` (a public id) is preselected."""

    framework = _text()


class AlignmentRow(RowForm):
    """One alignment row (``alignment-<i>-name``, ``-url``, ``-code``, ``-framework``,
    ``-type``)."""

    name = _text()
    url = _text()
    code = _text()
    framework = _text()
    type = _text()


class CompetencyForm(PageForm):
    """A competency's fields and its ``alignment_count`` alignment rows; the button ``action``
    ``add-alignment`` asks for one more row (nothing is saved then)."""

    identifier = _text()
    name = _text()
    description = _text()
    criteria_narrative = _text()
    achievement_type = _text()
    tags = _text()
    level = _text()
    credits = _text()
    human_code = _text()
    required_endorsements = _text()
    peer_reviewers = _text()
    framework = _text()
    is_stack = BooleanField()
    alignment_count = IntegerField(default=0)
    alignment = Rows(FormField(AlignmentRow))
    action = StringField(default="save")

    def process(self, formdata: Any = None, *args: Any, **kwargs: Any) -> None:
        super().process(formdata, *args, **kwargs)
        rows = _count(self.alignment_count, 0, MAX_ALIGNMENTS) + (1 if self.adds_row() else 0)
        self.alignment.fill(self.meta.wrap_formdata(self, formdata), rows)

    def adds_row(self) -> bool:
        """Whether the "add another alignment" button was pressed."""
        return bool(self.action.data == "add-alignment")

    def state(self) -> dict[str, Any]:
        """What was sent, as the form shows it again (see :func:`competency_state`)."""
        state: dict[str, Any] = {
            name: str(getattr(self, name).data or "") for name in COMPETENCY_TEXT_FIELDS
        }
        state["is_stack"] = bool(self.is_stack.data)
        state["alignments"] = self.alignment.rows() or [dict.fromkeys(ALIGNMENT_PARTS, "")]
        return state


def competency_state(competency: Competency | None) -> dict[str, Any]:
    """What the competency form shows for a stored competency (or a new one), with a blank
    alignment row to add one."""
    blank = dict.fromkeys(ALIGNMENT_PARTS, "")
    if competency is None:
        return {
            "achievement_type": "Competency",
            "required_endorsements": "1",
            "peer_reviewers": "0",
            "alignments": [blank],
        }
    framework = competency.framework
    return {
        "identifier": competency.identifier,
        "name": competency.name,
        "description": competency.description,
        "criteria_narrative": competency.criteria_narrative,
        "achievement_type": competency.achievement_type,
        "tags": "; ".join(competency.tags or []),
        "level": competency.level or "",
        "credits": format_number(competency.credits),
        "human_code": competency.human_code or "",
        "required_endorsements": str(competency.required_endorsements),
        "peer_reviewers": str(competency.peer_reviewers),
        "is_stack": competency.is_stack,
        "framework": framework.public_id if framework else "",
        "alignments": [alignment_row(each) for each in competency.alignments or []] + [blank],
    }


class ImageForm(PageForm):
    """A competency's image: ``action`` ``upload`` (the file ``image``), ``url`` (the https
    address ``image_url``) or ``remove``."""

    action = _text()
    image = FileField()
    image_url = _text()


class ImageQuery(PageForm):
    """The query string of a competency's public image: ``v``, the SHA-256 of the image asked
    for."""

    v = _text()


class ChoicesForm(PageForm):
    """The competencies ticked as prerequisites or stack components (public ids)."""

    chosen = SelectMultipleField(validate_choice=False)

    def public_ids(self) -> list[str]:
        """The ticked public ids, in the order sent."""
        return [str(each) for each in self.chosen.data or []]


class UploadForm(PageForm):
    """An import: the uploaded ``file``."""

    file = FileField()


# -- the rubric editor -----------------------------------------------------------------------

#: The default grid of a new rubric (points from 1, "Proficient" is mastery).
DEFAULT_LEVELS = (
    ("Beginning", "1"),
    ("Developing", "2"),
    ("Proficient", "3"),
    ("Extending", "4"),
)


class LevelRow(RowForm):
    """One level (``level-<j>-name``, ``-points``, ``-description``)."""

    name = _text()
    points = _text()
    description = _text()


class CriterionRow(RowForm):
    """One criterion (``criterion-<i>-name``, ``-description``) and its cell at each level
    (``criterion-<i>-level-<j>``)."""

    name = _text()
    description = _text()
    level = Rows(StringField(default=""))


class RubricForm(PageForm):
    """The rubric editor: ``level_count`` levels and ``criterion_count`` criteria (each within
    the rubric's limits), the mastery rule, and the button pressed (``action``: ``save``, or a
    grid change, see :func:`apply_rubric_action`)."""

    title = _text()
    level_count = IntegerField(default=1)
    criterion_count = IntegerField(default=1)
    level = Rows(FormField(LevelRow))
    criterion = Rows(FormField(CriterionRow))
    rule_kind = _text()
    rule_level = _text()
    rule_threshold = _text()
    action = StringField(default="save")

    def process(self, formdata: Any = None, *args: Any, **kwargs: Any) -> None:
        super().process(formdata, *args, **kwargs)
        formdata = self.meta.wrap_formdata(self, formdata)
        levels = _count(self.level_count, 1, rubrics.MAX_LEVELS)
        self.level.fill(formdata, levels)
        self.criterion.fill(formdata, _count(self.criterion_count, 1, rubrics.MAX_CRITERIA))
        for criterion in self.criterion:
            criterion.form.level.fill(formdata, levels)

    def state(self) -> dict[str, Any]:
        """The editor's state as sent (see :func:`rubric_state`)."""
        return {
            "title": self.title.data,
            "levels": self.level.rows(),
            "criteria": [
                {
                    "name": criterion.form.name.data,
                    "description": criterion.form.description.data,
                    "levels": criterion.form.level.rows(),
                }
                for criterion in self.criterion
            ],
            "rule_kind": self.rule_kind.data or "min_level",
            "rule_level": self.rule_level.data,
            "rule_threshold": self.rule_threshold.data,
        }


def rubric_state_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's state from submitted fields (a plain mapping too): ``level_count`` levels
    and ``criterion_count`` criteria, each cell ``criterion-<i>-level-<j>``.  Needs an
    application context (:class:`RubricForm` is a Flask-WTF form)."""
    formdata = form if isinstance(form, MultiDict) else MultiDict(form)
    state: dict[str, Any] = RubricForm(formdata=formdata).state()
    return state


def blank_rubric(title: str) -> dict[str, Any]:
    """The editor's state for a competency without a rubric: :data:`DEFAULT_LEVELS`, one
    criterion, mastery at "Proficient"."""
    levels = [
        {"name": name, "points": points, "description": ""} for name, points in DEFAULT_LEVELS
    ]
    return {
        "title": title,
        "levels": levels,
        "criteria": [{"name": "", "description": "", "levels": [""] * len(levels)}],
        "rule_kind": "min_level",
        "rule_level": "2",
        "rule_threshold": "",
    }


def rubric_state(version: RubricVersion) -> dict[str, Any]:
    """A stored rubric version as the editor's state."""
    rule = version.mastery_rule
    return {
        "title": version.title,
        "levels": [
            {
                "name": level["name"],
                "points": format_number(level["points"]),
                "description": level.get("description", ""),
            }
            for level in version.levels
        ],
        "criteria": [
            {
                "name": criterion["name"],
                "description": criterion.get("description", ""),
                "levels": list(criterion.get("levels") or []),
            }
            for criterion in version.criteria
        ],
        "rule_kind": rule["kind"],
        "rule_level": str(rule.get("level", "")),
        "rule_threshold": format_number(rule.get("threshold")),
    }


def mastery_rule(state: Mapping[str, Any]) -> dict[str, Any]:
    """The mastery rule the editor's state asks for, as :func:`rubrics.check_rubric` takes it
    (the level or the threshold, by ``rule_kind``)."""
    if state["rule_kind"] == "min_level":
        return {"kind": "min_level", "level": state["rule_level"]}
    return {"kind": state["rule_kind"], "threshold": state["rule_threshold"]}


def apply_rubric_action(state: dict[str, Any], action: str) -> str | None:
    """Add or remove a level or criterion in ``state`` (the no-JavaScript grid buttons).

    Returns a message when the action cannot be done (too many, or too few left).
    """
    levels, criteria = state["levels"], state["criteria"]
    if action == "add-level":
        if len(levels) >= rubrics.MAX_LEVELS:
            return str(_("A rubric has at most %(most)s levels.", most=rubrics.MAX_LEVELS))
        levels.append({"name": "", "points": "", "description": ""})
        for criterion in criteria:
            criterion["levels"].append("")
    elif action == "add-criterion":
        if len(criteria) >= rubrics.MAX_CRITERIA:
            return str(_("A rubric has at most %(most)s criteria.", most=rubrics.MAX_CRITERIA))
        criteria.append({"name": "", "description": "", "levels": [""] * len(levels)})
    elif match := re.fullmatch(r"remove-level-(\d+)", action):
        index = int(match[1])
        if len(levels) <= 2 or index >= len(levels):
            return str(_("A rubric needs at least 2 levels."))
        del levels[index]
        for criterion in criteria:
            del criterion["levels"][index]
        if state["rule_level"].isdigit() and int(state["rule_level"]) >= len(levels):
            state["rule_level"] = str(len(levels) - 1)
    elif match := re.fullmatch(r"remove-criterion-(\d+)", action):
        index = int(match[1])
        if len(criteria) <= 1 or index >= len(criteria):
            return str(_("A rubric needs at least 1 criterion."))
        del criteria[index]
    return None


def _index(number: str) -> int:
    return int(number) - 1  # messages count from 1, field names from 0


#: A :class:`portfolio.catalogue.rubrics.RubricError` message → the editor field it is about.
_RUBRIC_FIELDS: tuple[tuple[str, Callable[[re.Match[str]], str]], ...] = (
    (
        r"criterion (\d+), level (\d+) text",
        lambda m: f"criterion-{_index(m[1])}-level-{_index(m[2])}",
    ),
    (r"level (\d+) (name|description|points)", lambda m: f"level-{_index(m[1])}-{m[2]}"),
    (r"criterion (\d+) (name|description)", lambda m: f"criterion-{_index(m[1])}-{m[2]}"),
    (r"points threshold", lambda m: "rule_threshold"),
    (r"mastery rule", lambda m: "rule_level"),
    (r"rubric title", lambda m: "title"),
)


def rubric_error_field(message: str) -> str:
    """The editor field a :class:`portfolio.catalogue.rubrics.RubricError` message is about
    (``rubric`` for the rubric as a whole)."""
    for pattern, field in _RUBRIC_FIELDS:
        match = re.search(pattern, message)
        if match:
            return field(match)
    return "rubric"


def rubric_errors(error: rubrics.RubricError) -> dict[str, str]:
    """A refused rubric as the editor's errors: the message (in the reader's language), as a
    sentence, at its field (found from the English message)."""
    message = error.message
    return {rubric_error_field(error.english): message[:1].upper() + message[1:] + "."}
