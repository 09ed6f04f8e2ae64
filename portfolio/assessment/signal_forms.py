"""The form of a school's early-signal thresholds (``/admin/signals``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from portfolio.assessment.signals import RANGES, Thresholds
from portfolio.core.i18n import lazy_gettext as _l


def _range(name: str) -> NumberRange:
    low, high = RANGES[name]
    return NumberRange(
        min=low,
        max=high,
        message=_l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high),
    )


def _required() -> InputRequired:
    return InputRequired(message=_l("Enter a whole number."))


class ThresholdsForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """When the cohort view flags a student: days without a submission while a plan item is
    due, revision rounds on one competency, levels between self-assessment and assessor."""

    quiet_days = IntegerField(
        _l("Days without a submission while a plan item is due"),
        validators=[_required(), _range("quiet_days")],
    )
    revision_rounds = IntegerField(
        _l("Revision rounds on one competency"),
        validators=[_required(), _range("revision_rounds")],
    )
    calibration_gap = IntegerField(
        _l("Levels between a self-assessment and the assessor’s, on any criterion"),
        validators=[_required(), _range("calibration_gap")],
    )

    @classmethod
    def showing(cls, thresholds: Thresholds) -> ThresholdsForm:
        """The form filled with the school's thresholds now."""
        return cls(
            formdata=None,
            quiet_days=thresholds.quiet_days,
            revision_rounds=thresholds.revision_rounds,
            calibration_gap=thresholds.calibration_gap,
        )

    def values(self) -> dict[str, int]:
        """The thresholds entered (after validation)."""
        return {
            "quiet_days": int(self.quiet_days.data),
            "revision_rounds": int(self.revision_rounds.data),
            "calibration_gap": int(self.calibration_gap.data),
        }
