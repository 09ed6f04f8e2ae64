"""Verification time of VC 1.1-era proofs next to the current suite, on the same credential.

    python3 bench/legacy_proofs.py               # table: ms per verification, median of rounds
    python3 bench/legacy_proofs.py --rounds 15 --per-round 40 --json

The OB 3.0 spec's basic example is verified three ways: as VC 2.0 with ``eddsa-rdfc-2022`` (the
current path, which ``legacy_proofs.suite_for`` hands the verifier's own suite), and as the
VC 1.1 fixtures of tests/assets/legacy/ with ``eddsa-2022`` and ``Ed25519Signature2020``
(the same hashing, another proof shape).  Rounds alternate which credential goes first; numbers
are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()

from credentials.verify import Verifier  # noqa: E402

NOW = datetime(2025, 6, 1, tzinfo=UTC)
CASES = {
    "eddsa-rdfc-2022 (VC 2.0)": ROOT / "tests/assets/tampered/valid.json",
    "eddsa-2022 (VC 1.1)": ROOT / "tests/assets/legacy/vc11-ob302-eddsa-2022.json",
    "Ed25519Signature2020 (VC 1.1)": ROOT / "tests/assets/legacy/vc11-ob301-ed25519-2020.json",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--per-round", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    verifier = Verifier.offline(now=lambda: NOW)
    documents: dict[str, Any] = {name: json.loads(path.read_text()) for name, path in CASES.items()}
    for name, document in documents.items():  # warm every cache, and check each verifies
        if not verifier.verify(document).verified:
            sys.exit(f"{name} does not verify")
    times: dict[str, list[float]] = {name: [] for name in documents}
    names = list(documents)
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            start = time.perf_counter()
            for _ in range(args.per_round):
                verifier.verify(documents[name])
            times[name].append((time.perf_counter() - start) * 1000 / args.per_round)
    medians = {name: statistics.median(values) for name, values in times.items()}
    if args.json:
        print(json.dumps({"ms_per_verification": medians, "rounds": args.rounds}, indent=2))
        return
    for name, median in medians.items():
        print(f"{name:<32} {median:7.2f} ms  (range {min(times[name]):.2f}–{max(times[name]):.2f})")


if __name__ == "__main__":
    main()
