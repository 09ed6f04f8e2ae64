"""Sign and verify throughput (credentials per second) for the basic and the full Open Badges 3.0
example, optionally side by side with the Digital Bazaar JavaScript stack in the same run.

    .venv/bin/python bench/sign_verify.py            # ours, and the peer's when it is prepared
    .venv/bin/python bench/sign_verify.py --json     # one JSON object
    .venv/bin/python bench/sign_verify.py --no-peer --rounds 7 --per-round 40

Each round times `--per-round` consecutive operations in one warm process; the figure reported
is the median over rounds (ops/s), with the median milliseconds per operation beside it.  Numbers
are printed, never asserted: compare ratios within one run (machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from credentials.jsonld import DocumentLoader  # noqa: E402
from credentials.proof import Eddsa2022Suite  # noqa: E402
from credentials.verify import Verifier  # noqa: E402
from issuer_keys.keys import IssuerKey  # noqa: E402

EXAMPLES = {
    "basic": ROOT / "tests/assets/ob3/examples/basicOpenBadgeCredential.json",
    "full": ROOT / "tests/assets/ob3/examples/fullOpenBadge.json",
}
SEED = bytes(range(32))


def unsigned(path: Path, issuer: str) -> dict[str, Any]:
    document = json.loads(path.read_text())
    document.pop("proof", None)
    if isinstance(document.get("issuer"), dict):
        document["issuer"] = {**document["issuer"], "id": issuer}
    else:
        document["issuer"] = issuer
    return document


def measure(operation, *, rounds: int, per_round: int) -> dict[str, float]:
    operation()  # warm-up: contexts processed and cached
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            operation()
        times.append((time.perf_counter() - start) / per_round)
    median = statistics.median(times)
    return {"ops_per_s": round(1 / median, 1), "median_ms": round(median * 1000, 3)}


def ours(*, rounds: int, per_round: int) -> dict[str, Any]:
    key = IssuerKey.from_seed(SEED)
    did = f"did:key:{key.public_key_multibase}"
    loader = DocumentLoader.bundled()
    suite = Eddsa2022Suite(loader=loader)
    # Status is not checked, as in the peer's benchmark (the examples carry 1EdTech status).
    verifier = Verifier(
        loader=loader,
        resolve_key=Verifier.offline(loader=loader).resolve_key,
        resolve_status_list=None,
    )
    results: dict[str, Any] = {}
    for name, path in EXAMPLES.items():
        document = unsigned(path, did)
        vm = key.verification_method_id(did)
        signed = suite.create_proof(document, key=key, verification_method=vm)
        if verifier.verify(signed).check("proof").status != "passed":
            raise SystemExit(f"our own {name} signature does not verify")
        results[name] = {
            "bytes": len(json.dumps(signed, separators=(",", ":"))),
            "sign": measure(
                lambda d=document, v=vm: suite.create_proof(d, key=key, verification_method=v),
                rounds=rounds,
                per_round=per_round,
            ),
            "verify": measure(
                lambda s=signed: verifier.verify(s), rounds=rounds, per_round=per_round
            ),
        }
    return results


def peer_dir() -> Path | None:
    configured = os.environ.get("CREDFOLIO_PEER_DIR")
    candidate = Path(configured) if configured else ROOT / ".cache" / "peer"
    return candidate if (candidate / "node_modules").is_dir() else None


def theirs(directory: Path, *, samples: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in EXAMPLES.items():
            source = Path(tmp) / f"{name}.json"
            source.write_text(json.dumps(unsigned(path, "did:example:replaced")))
            run = subprocess.run(
                ["node", "bench.mjs", str(source), SEED.hex(), str(samples)],
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=600,
                check=True,
            )
            report = json.loads(run.stdout)
            results[name] = {
                "bytes": report["bytes"],
                **{
                    op: {
                        "ops_per_s": round(1000 / report[op]["median_ms"], 1),
                        "median_ms": report[op]["median_ms"],
                    }
                    for op in ("sign", "verify")
                },
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=30)
    parser.add_argument("--no-peer", action="store_true", help="skip the JavaScript stack")
    args = parser.parse_args()

    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "method": f"median of {args.rounds} rounds x {args.per_round} operations, warm",
        "credfolio": ours(rounds=args.rounds, per_round=args.per_round),
    }
    directory = None if args.no_peer else peer_dir()
    if directory is not None:
        report["peer"] = theirs(directory, samples=args.rounds * args.per_round)
        report["peer_stack"] = "@digitalbazaar/vc + eddsa-rdfc-2022-cryptosuite (Node.js)"
        report["ratio_ours_over_theirs"] = {
            name: {
                op: round(
                    report["credfolio"][name][op]["ops_per_s"]
                    / report["peer"][name][op]["ops_per_s"],
                    2,
                )
                for op in ("sign", "verify")
            }
            for name in EXAMPLES
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['method']}; Python {report['machine']['python']}, {os.cpu_count()} CPUs")
    header = f"{'example':<8}{'op':<8}{'credfolio ops/s':>17}{'ms':>9}"
    if directory is not None:
        header += f"{'peer ops/s':>13}{'ms':>9}{'ours/theirs':>13}"
    print(header)
    for name in EXAMPLES:
        for op in ("sign", "verify"):
            mine = report["credfolio"][name][op]
            line = f"{name:<8}{op:<8}{mine['ops_per_s']:>17}{mine['median_ms']:>9}"
            if directory is not None:
                peer = report["peer"][name][op]
                ratio = report["ratio_ours_over_theirs"][name][op]
                line += f"{peer['ops_per_s']:>13}{peer['median_ms']:>9}{ratio:>13}"
            print(line)
    if directory is None and not args.no_peer:
        print("(peer not prepared: run scripts/peer for the side-by-side figures)")


if __name__ == "__main__":
    main()
