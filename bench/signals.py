"""How long the cohort view's early signals take: a school of N students (default 1,000 and
5,000), every other one flagged for all four reasons (tests/portfolio/assessment/
test_signals.py's ``seed_cohort``, bulk inserted), timed computing the signals, rendering
``/cohort``, ``/cohort?flagged=1`` and writing ``/cohort.csv``.

    python3 bench/signals.py                      # 1,000 and 5,000 students, SQLite
    python3 bench/signals.py --students 200 --json

Numbers are printed, never asserted (the query budget is asserted by the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()


def _app(instance: Path) -> Any:
    from portfolio.core.db import db
    from wsgi import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": os.urandom(32).hex(),
            "CREDFOLIO_PUBLIC_URL": "https://bench.credfolio.test",
            "CREDFOLIO_NOTIFY_BY_MAIL": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
    return app


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return round(time.perf_counter() - started, 4)


def run(students: int) -> dict[str, Any]:
    """The timings (seconds) for a school of ``students``."""
    from portfolio.accounts.issuers import default_issuer
    from portfolio.assessment import signals as early
    from portfolio.core.models import utcnow
    from tests.portfolio.accounts.test_auth import make_user, sign_in
    from tests.portfolio.assessment.test_signals import seed_cohort

    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder))
        make_user(app, "bench-admin@bench.example", "admin")
        client = app.test_client()
        sign_in(client, "bench-admin@bench.example")
        with app.app_context():
            issuer = default_issuer()
            seed_started = time.perf_counter()
            seed_cohort(issuer, students)
            seeded = round(time.perf_counter() - seed_started, 4)
            scope = early.SignalScope(issuer.id)
            with app.test_request_context():
                signals = _timed(lambda: early.cohort_signals(scope, early.DEFAULTS, now=utcnow()))
        page = _timed(lambda: client.get("/cohort").get_data())
        flagged = _timed(lambda: client.get("/cohort?flagged=1").get_data())
        csv = _timed(lambda: client.get("/cohort.csv").get_data())
    return {
        "students": students,
        "seed_s": seeded,
        "signals_s": signals,
        "cohort_page_s": page,
        "flagged_page_s": flagged,
        "csv_s": csv,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, action="append")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [run(count) for count in args.students or [1_000, 5_000]]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for result in results:
        print(
            f"{result['students']:>6} students: signals {result['signals_s']:.3f} s, "
            f"/cohort {result['cohort_page_s']:.3f} s, "
            f"/cohort?flagged=1 {result['flagged_page_s']:.3f} s, "
            f"/cohort.csv {result['csv_s']:.3f} s (seeded in {result['seed_s']:.1f} s)"
        )


if __name__ == "__main__":
    main()
