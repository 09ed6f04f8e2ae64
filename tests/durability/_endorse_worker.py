"""A process of its own (multiprocessing, 'spawn') that endorses one submission: a fresh app on
the shared database, as another app server would be.  Imported by the spawned child, so it
lives in a module and not in the test."""

from __future__ import annotations

import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any


def endorse(
    config: dict[str, Any],
    submission_id: int,
    assessor_id: int,
    levels: list[int],
    start: Barrier,
    results: Queue[tuple[Any, ...]],
) -> None:
    """Put ``("issued", credential public id)``, ``("refused", status, code)`` or
    ``("error", traceback)`` on ``results``."""
    from portfolio.accounts.models import User
    from portfolio.assessment import service as assessment
    from portfolio.assessment.errors import AssessmentError
    from portfolio.assessment.models import Submission
    from portfolio.core.db import db
    from portfolio.core.errors import status_for
    from wsgi import create_app

    try:
        app = create_app(config)
        with app.app_context():
            try:
                submission = db.session.get(Submission, submission_id)
                assessor = db.session.get(User, assessor_id)
                assert submission is not None and assessor is not None
                start.wait(60)
                outcome = assessment.assess(submission, assessor, decision="endorse", levels=levels)
                credential = outcome.credential
                results.put(("issued", credential.public_id if credential else None))
            except AssessmentError as exc:
                results.put(("refused", status_for(exc), exc.code))
            finally:
                db.session.remove()
                db.engine.dispose()
    except BaseException:
        results.put(("error", traceback.format_exc()))
