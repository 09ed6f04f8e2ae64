"""Rubrics: criteria × levels and the rule for mastery as plain data, checked
(:func:`check_rubric`), stored as immutable versions (:func:`save_new_version`, not committed),
and used to judge the chosen levels (:func:`meets_mastery`, :func:`total_points`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from portfolio.accounts.models import User
from portfolio.catalogue.models import Competency, RubricVersion
from portfolio.core.db import db
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.numbers import whole_number

MAX_LEVELS = 8
MAX_CRITERIA = 20
MAX_NAME = 256
MAX_TEXT = 4000


class RubricError(InvalidInputError):
    """A rubric (or a set of chosen levels) that does not make sense; the message says why."""

    code = "INVALID_RUBRIC"


def _text(value: Any, where: str | LazyText, *, required: bool, limit: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RubricError(_l("%(where)s must be text", where=where))
    text = value.strip()
    if required and not text:
        raise RubricError(_l("%(where)s is required", where=where))
    if len(text) > limit:
        raise RubricError(
            _l("%(where)s is longer than %(limit)s characters", where=where, limit=limit)
        )
    return text


def _points(value: Any, where: str | LazyText) -> float:
    if isinstance(value, bool):
        raise RubricError(_l("%(where)s must be a number", where=where))
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise RubricError(_l("%(where)s must be a number", where=where)) from None
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise RubricError(_l("%(where)s must be a number of 0 or more", where=where))
    return int(value) if float(value).is_integer() else float(value)


def check_rubric(
    levels: Sequence[Mapping[str, Any]],
    criteria: Sequence[Mapping[str, Any]],
    rule: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Validate and normalize a rubric; return ``(levels, criteria, rule)`` ready to store.

    A rubric is plain data (see :class:`portfolio.catalogue.models.RubricVersion`)::

        levels   = [{"name": "Beginning", "description": "", "points": 1}, ...]  # lowest first
        criteria = [{"name": "Melody", "description": "...", "levels": ["cell text", ...]}, ...]
        rule     = {"kind": "min_level", "level": 2}   # every criterion at levels[2] or above
                 | {"kind": "points", "threshold": 9}  # total points at least 9

    Raises :class:`RubricError` with a message a form can show.
    """
    if not 2 <= len(levels) <= MAX_LEVELS:
        raise RubricError(_l("a rubric needs between 2 and %(most)s levels", most=MAX_LEVELS))
    if not 1 <= len(criteria) <= MAX_CRITERIA:
        raise RubricError(_l("a rubric needs between 1 and %(most)s criteria", most=MAX_CRITERIA))
    clean_levels = _check_levels(levels)
    clean_criteria = [
        _check_criterion(criterion, index, len(clean_levels))
        for index, criterion in enumerate(criteria, 1)
    ]
    return clean_levels, clean_criteria, _check_rule(rule, clean_levels, len(clean_criteria))


def _check_levels(levels: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The levels, lowest first: named (distinct names), described, with points that never
    decrease."""
    clean_levels: list[dict[str, Any]] = []
    for index, level in enumerate(levels, 1):
        clean_levels.append(
            {
                "name": _text(
                    level.get("name"),
                    _l("level %(index)s name", index=index),
                    required=True,
                    limit=64,
                ),
                "description": _text(
                    level.get("description"),
                    _l("level %(index)s description", index=index),
                    required=False,
                    limit=MAX_TEXT,
                ),
                "points": _points(
                    level.get("points", index - 1), _l("level %(index)s points", index=index)
                ),
            }
        )
    names = [level["name"].casefold() for level in clean_levels]
    if len(set(names)) != len(names):
        raise RubricError(_l("level names must differ from each other"))
    points = [level["points"] for level in clean_levels]
    if points != sorted(points):
        raise RubricError(_l("levels go from lowest to highest: points may not decrease"))
    return clean_levels


def _check_criterion(criterion: Mapping[str, Any], index: int, level_count: int) -> dict[str, Any]:
    """One criterion (``index`` counts from 1): its name, description and a text per level
    (missing cells are empty)."""
    cells = list(criterion.get("levels") or [])
    if len(cells) > level_count:
        raise RubricError(
            _l("criterion %(index)s describes more levels than the rubric has", index=index)
        )
    cells += [""] * (level_count - len(cells))
    return {
        "name": _text(
            criterion.get("name"),
            _l("criterion %(index)s name", index=index),
            required=True,
            limit=MAX_NAME,
        ),
        "description": _text(
            criterion.get("description"),
            _l("criterion %(index)s description", index=index),
            required=False,
            limit=MAX_TEXT,
        ),
        "levels": [
            _text(
                cell,
                _l("criterion %(index)s, level %(level)s text", index=index, level=j),
                required=False,
                limit=MAX_TEXT,
            )
            for j, cell in enumerate(cells, 1)
        ],
    }


def _check_rule(
    rule: Mapping[str, Any], levels: list[dict[str, Any]], criteria_count: int
) -> dict[str, Any]:
    kind = rule.get("kind")
    if kind == "min_level":
        level = rule.get("level")
        if isinstance(level, str) and level.strip().isdigit():
            level = int(level)
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < len(levels):
            raise RubricError(_l("the mastery rule must name one of the rubric's levels"))
        return {"kind": "min_level", "level": level}
    if kind == "points":
        threshold = _points(rule.get("threshold"), _l("the points threshold"))
        most = criteria_count * levels[-1]["points"]
        if threshold > most:
            raise RubricError(
                _l("the points threshold is more than the most possible (%(most)s)", most=most)
            )
        return {"kind": "points", "threshold": threshold}
    raise RubricError(_l("the mastery rule is either 'min_level' or 'points'"))


def describe_rule(version: RubricVersion) -> str:
    """The mastery rule in words, e.g. "every criterion at Proficient or above"."""
    rule = version.mastery_rule
    if rule["kind"] == "min_level":
        every: str = _(
            "every criterion at “%(level)s” or above", level=version.levels[rule["level"]]["name"]
        )
        return every
    total: str = _("at least %(threshold)s points in total", threshold=rule["threshold"])
    return total


def current_version(competency: Competency) -> RubricVersion | None:
    """The newest rubric version of ``competency`` (None when it has no rubric)."""
    result: RubricVersion | None = db.session.scalar(
        select(RubricVersion)
        .where(RubricVersion.competency_id == competency.id)
        .order_by(RubricVersion.version.desc())
        .limit(1)
    )
    return result


def save_new_version(
    competency: Competency,
    *,
    title: str,
    levels: Sequence[Mapping[str, Any]],
    criteria: Sequence[Mapping[str, Any]],
    rule: Mapping[str, Any],
    author: User | None = None,
) -> RubricVersion:
    """Validate and add the next version of ``competency`` 's rubric (not committed).

    Earlier versions are never changed.  Two editors saving at once get a unique-key conflict
    on (competency, version) at commit rather than two versions with one number.
    """
    clean_levels, clean_criteria, clean_rule = check_rubric(levels, criteria, rule)
    title = _text(title, _l("the rubric title"), required=True, limit=MAX_NAME)
    latest = db.session.scalar(
        select(func.max(RubricVersion.version)).where(RubricVersion.competency_id == competency.id)
    )
    version = RubricVersion(
        competency_id=competency.id,
        version=(latest or 0) + 1,
        title=title,
        levels=clean_levels,
        criteria=clean_criteria,
        mastery_rule=clean_rule,
        created_by_id=author.id if author is not None else None,
    )
    db.session.add(version)
    return version


def check_levels(version: RubricVersion, chosen: Sequence[Any]) -> list[int]:
    """The chosen level index per criterion, validated against ``version``."""
    if len(chosen) != len(version.criteria):
        raise RubricError(_l("choose a level for every criterion"))
    result = []
    for index, value in enumerate(chosen):
        name = version.criteria[index]["name"]
        if isinstance(value, str):
            # Any other text (other digits, 5,000 of them, a sign) is no level.
            value = whole_number(value, at_most=len(version.levels)) if value.strip() else None
        if isinstance(value, bool) or not isinstance(value, int):
            raise RubricError(_l("choose a level for “%(name)s”", name=name))
        if not 0 <= value < len(version.levels):
            raise RubricError(_l("“%(name)s”: no such level", name=name))
        result.append(value)
    return result


def total_points(version: RubricVersion, chosen: Sequence[int]) -> float:
    """The sum of the points of the chosen levels."""
    total = sum(version.levels[level]["points"] for level in chosen)
    return int(total) if float(total).is_integer() else float(total)


def meets_mastery(version: RubricVersion, chosen: Sequence[int]) -> bool:
    """True when the chosen levels satisfy the version's rule for mastery."""
    rule = version.mastery_rule
    if rule["kind"] == "min_level":
        return all(level >= rule["level"] for level in chosen)
    return bool(total_points(version, chosen) >= rule["threshold"])
