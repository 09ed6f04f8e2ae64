"""The pyoxigraph trial: could its compiled RDFC-1.0 (and JSON-LD parser) replace ours?

    .venv/bin/pip install pyoxigraph==0.5.13      # not a Credfolio dependency: the trial only
    python3 bench/pyoxigraph_trial.py [--json]

For every Open Badges example and signed example, and the W3C rdf-canon suite, it compares
pyoxigraph's canonical N-Quads with ours (which the tests hold byte-identical to pyld's), times
both canonicalizers on the same quads, tries pyoxigraph's JSON-LD parser (it has no document
loader, so the bundled contexts are inlined), and gives it the suite's poison graph (test074)
for ``--poison-seconds`` in a child process.  The findings are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()

from credentials import rdfc  # noqa: E402
from credentials.jsonld import DocumentLoader, to_quads  # noqa: E402

ASSETS = ROOT / "tests" / "assets"
SUITE = ASSETS / "rdf-canon"


def _ox() -> Any:
    try:
        import pyoxigraph
    except ImportError:
        raise SystemExit(
            "pyoxigraph is not installed (it is not a Credfolio dependency); for the trial: "
            ".venv/bin/pip install pyoxigraph==0.5.13"
        ) from None
    return pyoxigraph


def ox_canonical(ox: Any, nquads: str, algorithm: str = "RDFC_1_0") -> str:
    dataset = ox.Dataset(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(getattr(ox.CanonicalizationAlgorithm, algorithm))
    lines = ox.serialize(dataset, format=ox.RdfFormat.N_QUADS).decode("utf-8").splitlines()
    return "".join(sorted(line + "\n" for line in lines))


def _timed(function: Any, n: int) -> float:
    function()
    times = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(n):
            function()
        times.append((time.process_time() - start) / n * 1000)
    return round(statistics.median(times), 3)


def _poison(seconds: float) -> str:
    ox = _ox()
    text = (SUITE / "rdfc10" / "test074-in.nq").read_text(encoding="utf-8")
    start = time.perf_counter()
    ox_canonical(ox, text)
    return f"finished in {time.perf_counter() - start:.1f} s"


def poison_outcome(seconds: float) -> str:
    with multiprocessing.Pool(1) as pool:
        pending = pool.apply_async(_poison, (seconds,))
        try:
            return str(pending.get(timeout=seconds))
        except multiprocessing.TimeoutError:
            pool.terminate()
            return f"still running after {seconds:g} s (killed)"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--poison-seconds", type=float, default=10.0)
    args = parser.parse_args()
    ox = _ox()
    loader = DocumentLoader.bundled()
    report: dict[str, Any] = {"pyoxigraph": ox.__version__, "documents": {}, "suite": {}}

    paths = [
        *sorted((ASSETS / "ob3" / "examples").glob("*.json")),
        *sorted((ASSETS / "ob3" / "signed-examples").glob("*.signed.json")),
    ]
    for path in paths:
        document = json.loads(path.read_text(encoding="utf-8"))
        document.pop("proof", None)
        quads = to_quads(document, loader=loader)
        ours = rdfc.canonicalize(quads)
        nquads = "".join(rdfc.serialize_quad(q) for q in quads)
        n = 20 if len(quads) < 100 else 3
        inlined = dict(document)
        contexts = document["@context"]
        inlined["@context"] = [
            loader(c)["document"]["@context"] if isinstance(c, str) else c
            for c in (contexts if isinstance(contexts, list) else [contexts])
        ]
        try:
            list(ox.parse(json.dumps(inlined), format=ox.RdfFormat.JSON_LD))
            json_ld = "parsed"
        except (SyntaxError, ValueError) as exc:
            json_ld = f"refused: {str(exc)[:80]}"
        report["documents"][path.name] = {
            "quads": len(quads),
            "identical": ox_canonical(ox, nquads) == ours,
            "ours_ms": _timed(lambda q=quads: rdfc.canonicalize(q), n),
            "pyoxigraph_ms": _timed(lambda t=nquads: ox_canonical(ox, t), n),
            "pyoxigraph_json_ld": json_ld,
        }

    with (SUITE / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["rdfc10"] == "TRUE"]
    passed, failed = 0, []
    for row in rows:
        if row["test"] == "test074":  # the poison graph, below
            continue
        algorithm = "RDFC_1_0_SHA_384" if row["hashAlgorithm"].lower() == "sha384" else "RDFC_1_0"
        text = (SUITE / "rdfc10" / f"{row['test']}-in.nq").read_text(encoding="utf-8")
        want = (SUITE / "rdfc10" / f"{row['test']}-rdfc10.nq").read_text(encoding="utf-8")
        if ox_canonical(ox, text, algorithm) == want:
            passed += 1
        else:
            failed.append(row["test"])
    report["suite"] = {"passed": passed, "failed": failed}
    report["poison_test074"] = poison_outcome(args.poison_seconds)

    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"pyoxigraph {report['pyoxigraph']}")
    print(f"{'document':<42}{'quads':>6}{'same':>6}{'ours ms':>9}{'ox ms':>8}  JSON-LD parser")
    for name, row in report["documents"].items():
        print(
            f"{name:<42}{row['quads']:>6}{'yes' if row['identical'] else 'NO':>6}"
            f"{row['ours_ms']:>9}{row['pyoxigraph_ms']:>8}  {row['pyoxigraph_json_ld']}"
        )
    print(f"W3C rdf-canon suite: {passed} passed, failed: {', '.join(failed) or 'none'}")
    print(f"poison graph test074: {report['poison_test074']}")


if __name__ == "__main__":
    main()
