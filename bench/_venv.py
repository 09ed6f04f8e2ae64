"""Run a benchmark with the project's own interpreter: ``python3 bench/X.py`` from a fresh clone
creates ``.venv`` and installs Credfolio (``scripts/bootstrap``) first, then re-runs the same
command under ``.venv/bin/python``.  One command per benchmark, as the README promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def ensure_project_python() -> None:
    """Return when running in ``.venv``; else bootstrap it and exec the same command there."""
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return
    if os.environ.get("CREDFOLIO_BENCH_REEXEC") == "1":  # the exec below did not land in .venv
        sys.exit(f"bench: {VENV_PYTHON} does not run inside {ROOT / '.venv'}")
    print("bench: preparing .venv (scripts/bootstrap) ...", file=sys.stderr, flush=True)
    # Quick when up to date; its output goes to stderr so that --json output stays clean.
    subprocess.run([str(ROOT / "scripts" / "bootstrap")], check=True, stdout=sys.stderr)
    os.environ["CREDFOLIO_BENCH_REEXEC"] = "1"
    # Our own interpreter on our own script and arguments: no shell, nothing from outside.
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606
