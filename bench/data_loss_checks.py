"""What the data-loss and VC Data Model 2.0 checks cost on the full Open Badges example.

    python3 bench/data_loss_checks.py

Prints, in milliseconds (medians over rounds of CPU time): the whole conversion to RDF
(``jsonld.to_quads``, which now checks every distinct IRI, datatype and language tag it emits
against RFC 3987 / BCP 47 and refuses what pyld would skip); the RFC 3987 check of every
distinct IRI of the example with its memo emptied (what a new IRI costs) and warm; and
``vc_rules.violations``.  Numbers are printed, never asserted (machines are shared and noisy).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()

from credentials import iri, rdfc, vc_rules  # noqa: E402
from credentials.jsonld import DocumentLoader, to_quads  # noqa: E402

EXAMPLE = ROOT / "tests" / "assets" / "ob3" / "examples" / "fullOpenBadge.json"


def cpu_ms(operation: Callable[[], object], repeat: int, rounds: int = 9) -> float:
    results = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeat):
            operation()
        results.append((time.process_time() - started) / repeat * 1000)
    return statistics.median(results)


def main() -> None:
    loader = DocumentLoader.bundled()
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    document.pop("proof", None)
    quads = to_quads(document, loader=loader)
    iris = sorted(
        {t.value for q in quads for t in q if isinstance(t, rdfc.IRI)}
        | {t.datatype for q in quads for t in q if isinstance(t, rdfc.Literal)}
    )

    def cold() -> None:
        iri.is_absolute_iri.cache_clear()
        for value in iris:
            iri.is_absolute_iri(value)

    def warm() -> None:
        for value in iris:
            iri.is_absolute_iri(value)

    rows = [
        ("to_quads (with every check)", cpu_ms(lambda: to_quads(document, loader=loader), 20)),
        ("RFC 3987 check of every IRI, cold", cpu_ms(cold, 50)),
        ("RFC 3987 check of every IRI, warm", cpu_ms(warm, 200)),
        ("vc_rules.violations", cpu_ms(lambda: vc_rules.violations(document), 500)),
    ]
    print(f"full Open Badges example: {len(quads)} quads, {len(iris)} distinct IRIs")
    for label, ms in rows:
        print(f"{label:<36} {ms:8.3f} ms")


if __name__ == "__main__":
    main()
