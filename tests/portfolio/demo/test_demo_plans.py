"""The demo's learning plans: Maya's plan has an item due soon and an overdue one, journal
entries (one with a recording, one private) and comments from Amara and Grace; Leo's plan has
an overdue item; seeding again adds nothing."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from sqlalchemy import func, select

from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.files.storage import storage
from portfolio.planning import service
from portfolio.planning.models import JournalEntry, PlanComment, PlanItem
from tests.portfolio.demo.test_demo import _app


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (PlanItem, JournalEntry, PlanComment)
    )


def test_the_demo_seeds_plans_journals_and_comments_once(tmp_path: Path) -> None:
    app = _app(tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-setup"]).exit_code == 0
    with app.app_context():
        maya = db.session.scalar(select(User).where(User.display_name == "Maya Okafor"))
        leo = db.session.scalar(select(User).where(User.display_name == "Leo Brennan"))
        view = service.plan_view(maya)
        assert [v.name for v in view.items] == ["Performance", "Project design", "Reflection"]
        assert [(v.due_soon, v.overdue) for v in view.items] == [
            (True, False),
            (False, True),
            (False, False),
        ]
        entries = service.entries_of(maya)
        assert len(entries) == 3
        [recorded] = [e for e in entries if e.audio_sha256]
        with wave.open(io.BytesIO(storage().get(recorded.audio_sha256))) as sound:
            assert sound.getnframes() > 0
        assert sum(1 for e in entries if e.plan_item_id is None) == 1  # private
        authors = {c.author.display_name for c in db.session.scalars(select(PlanComment))}
        assert authors == {"Amara Nwosu", "Grace Okafor"}
        # Leo's plan (with the items portfolio/demo/signals.py adds): one due, two overdue.
        assert [(v.name, v.overdue) for v in service.plan_view(leo).items] == [
            ("Project design", False),
            ("Reflection", True),
            ("Song writing", True),
        ]
        counts = _counts()
        db.session.remove()
    assert runner.invoke(args=["demo-setup"]).exit_code == 0
    with app.app_context():
        assert _counts() == counts
        db.session.remove()
        db.engine.dispose()
