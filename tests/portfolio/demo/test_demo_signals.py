"""The demo school's early signals (issue 17 §4): the teacher's cohort view has students
flagged for the reasons the demo can show, and a second `demo-setup` adds nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from portfolio.accounts.models import User
from portfolio.assessment import signals as early
from portfolio.assessment.models import SubmissionEvent
from portfolio.core.db import db
from portfolio.core.models import utcnow
from portfolio.planning.models import PlanItem
from tests.portfolio.demo.test_demo import _app


def _flags(app: Any) -> dict[str, list[str]]:
    with app.test_request_context():
        people = {user.display_name.split()[0]: user for user in db.session.scalars(select(User))}
        issuer_id = people["Leo"].issuer_id
        found = early.cohort_signals(
            early.SignalScope(issuer_id), early.load_thresholds(issuer_id), now=utcnow()
        )
        names = {user.id: name for name, user in people.items()}
        return {names[sid]: [signal.text for signal in signals] for sid, signals in found.items()}


def test_the_demo_flags_leo_and_priya_with_their_reasons(tmp_path: Path) -> None:
    app = _app(tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-setup"]).exit_code == 0
    flags = _flags(app)
    leo = flags["Leo"]
    assert leo[0] == "No submission in 14 days while a plan item is due"
    assert any(text.startswith("Plan item overdue: “Reflection”, due ") for text in leo)
    assert "2 revision rounds on “Reflection”" in flags["Priya"]
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count()).select_from(PlanItem)),
            db.session.scalar(select(func.count()).select_from(SubmissionEvent)),
        )
    second = runner.invoke(args=["demo-setup"])
    assert second.exit_code == 0 and "nothing added" in second.output
    with app.app_context():
        assert counts == (
            db.session.scalar(select(func.count()).select_from(PlanItem)),
            db.session.scalar(select(func.count()).select_from(SubmissionEvent)),
        )
        db.session.remove()
        db.engine.dispose()
