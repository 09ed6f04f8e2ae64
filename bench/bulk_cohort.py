"""How long a bulk job takes: a cohort endorsement of N students (default 1,000) and a CSV of
N rows issued, each run in this process exactly as ``credfolio jobs run`` runs it.

    python3 bench/bulk_cohort.py                     # SQLite in a temporary folder
    python3 bench/bulk_cohort.py --students 200 --json
    python3 bench/bulk_cohort.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/cf_bench

Prints the wall time, rows per second and milliseconds per row (median of the per-batch
figures beside the overall one).  Numbers are printed, never asserted.  The PostgreSQL
database given is emptied first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()


def _app(database_url: str, instance: Path) -> Any:
    from portfolio.core.db import db
    from wsgi import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": os.urandom(32).hex(),
            "CREDFOLIO_PUBLIC_URL": "https://bench.credfolio.test",
            "CREDFOLIO_NOTIFY_BY_MAIL": False,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _timed_run(job_id: int) -> dict[str, Any]:
    from portfolio.bulk import jobs as bulk

    marks: list[float] = []
    started = time.perf_counter()
    outcome = bulk.run_job(job_id, on_item=lambda _item: marks.append(time.perf_counter()))
    wall = time.perf_counter() - started
    gaps = [b - a for a, b in zip([started, *marks], marks, strict=False)]
    return {
        "outcome": outcome.outcome,
        "rows": outcome.processed,
        "seconds": round(wall, 2),
        "rows_per_second": round(outcome.processed / wall, 1) if wall else None,
        "ms_per_row_median": round(1000 * statistics.median(gaps), 2) if gaps else None,
        "counts": bulk.counts(job_id),
    }


def run(students: int, database_url: str | None) -> dict[str, Any]:
    from portfolio.accounts.issuers import default_issuer
    from portfolio.accounts.models import User
    from portfolio.bulk.kinds import start_cohort_endorsement, start_csv_issue
    from portfolio.core.db import db
    from tests.portfolio.school import make_school, password_hash

    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = _app(url, Path(folder) / "instance")
        with app.app_context():
            issuer = default_issuer()
            app.extensions["credfolio"].key_store.create(issuer.did)
            school = make_school(issuer)
            school.competency.human_code = "BENCH-1"
            digest = password_hash()
            db.session.execute(
                User.__table__.insert(),
                [
                    {
                        "email": f"pupil{i}@bench.test",
                        "password_hash": digest,
                        "display_name": f"Pupil {i:05d}",
                        "role": "student",
                        "issuer_id": issuer.id,
                        "cohort": "Bench",
                        "session_version": 1,
                        "failed_sign_ins": 0,
                    }
                    for i in range(students)
                ],
            )
            db.session.commit()
            job, _ = start_cohort_endorsement(
                school.assessor, school.competency, "Bench", levels=[2, 2]
            )
            cohort = _timed_run(job.id)
            again, _ = start_cohort_endorsement(
                school.assessor, school.competency, "Bench", levels=[2, 2]
            )
            rerun = _timed_run(again.id)
            lines = ["name,email,competency"] + [
                f"Guest {i},guest{i}@bench.test,BENCH-1" for i in range(students)
            ]
            csv_job, _ = start_csv_issue(
                "\n".join(lines).encode(), filename="bench.csv", issuer=issuer
            )
            from_csv = _timed_run(csv_job.id)
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    return {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "database": "postgresql" if database_url else "sqlite",
        "students": students,
        "cohort_endorsement": cohort,
        "cohort_endorsement_again_all_skipped": rerun,
        "csv_issue": from_csv,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--database-url", help="PostgreSQL URL (emptied first); default SQLite")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = run(args.students, args.database_url)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['students']} students on {figures['database']}, {figures['machine']}")
    for name in ("cohort_endorsement", "cohort_endorsement_again_all_skipped", "csv_issue"):
        row = figures[name]
        print(
            f"  {name:38} {row['seconds']:8.2f} s  {row['rows_per_second']:8} rows/s  "
            f"median {row['ms_per_row_median']} ms/row  {row['counts']}"
        )


if __name__ == "__main__":
    main()
