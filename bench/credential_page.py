"""Milliseconds per view of a credential page (``GET /c/<id>``): with its verdict cached, and
with the verdict computed afresh on every view (the cache emptied before each), in one run.

    python3 bench/credential_page.py              # a small table
    python3 bench/credential_page.py --views 200

The app is built in a temporary folder on SQLite (the test configuration), with one mastery
credential of the demo shape.  Numbers are printed, never asserted (machines are shared).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()

from portfolio.core.db import db  # noqa: E402
from portfolio.public.verdict_cache import EXTENSION, VerdictCache  # noqa: E402
from tests.conftest import _test_config, unsigned_badge  # noqa: E402
from wsgi import create_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=100)
    views = parser.parse_args().views
    folder = Path(tempfile.mkdtemp(prefix="credfolio-bench-"))
    app = create_app(_test_config(folder / "instance", f"sqlite:///{folder / 'bench.sqlite3'}"))
    with app.app_context():
        db.create_all()
        from portfolio.accounts.issuers import default_issuer
        from portfolio.issuing import service as services

        issuer = default_issuer()
        app.extensions["credfolio"].key_store.create(issuer.did)
        public_id = services.issue(unsigned_badge(), issuer=issuer).public_id
    client = app.test_client()
    client.get(f"/c/{public_id}")  # warm: templates, contexts, the first verdict

    def timed(empty_cache: bool) -> list[float]:
        times = []
        for _ in range(views):
            if empty_cache:
                app.extensions[EXTENSION] = VerdictCache()
            start = time.perf_counter()
            assert client.get(f"/c/{public_id}").status_code == 200  # noqa: S101
            times.append((time.perf_counter() - start) * 1000)
        return times

    for label, empty in (("verdict cached", False), ("verified on every view", True)):
        times = timed(empty)
        print(
            f"{label:<24} median {statistics.median(times):7.2f} ms   "
            f"p90 {statistics.quantiles(times, n=10)[-1]:7.2f} ms   ({views} views)"
        )


if __name__ == "__main__":
    main()
