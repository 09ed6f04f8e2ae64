"""Sign and verify throughput for the basic and the full Open Badges 3.0 example, side by side
with the Digital Bazaar JavaScript stack (@digitalbazaar/vc + eddsa-rdfc-2022) in one run.

    python3 bench/sign_verify.py            # table: ours, theirs, ours/theirs
    python3 bench/sign_verify.py --json     # one JSON object {ours, peer, ratios, machine}
    python3 bench/sign_verify.py --no-peer --rounds 5

The peer is prepared with scripts/peer (npm packages from the registry, once, into .cache/peer;
CREDFOLIO_PEER_DIR names another prepared copy) and driven by bench/peer_driver.mjs, a
long-lived Node process.  Rounds alternate between the two stacks (and which goes first), each
timing `--per-round` consecutive warm operations of one kind, so both meet the same machine load.
Reported: the median over rounds of the milliseconds per operation, and for the ratio the median
over rounds of (their time / our time) — how many times our throughput is theirs — with its
range.  Numbers are printed, never asserted (machines are shared and noisy).
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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()

from credentials.jsonld import DocumentLoader  # noqa: E402
from credentials.proof import Eddsa2022Suite  # noqa: E402
from credentials.verify import Verifier  # noqa: E402
from issuer_keys.keys import IssuerKey  # noqa: E402

EXAMPLES = {
    "basic": ROOT / "tests/assets/ob3/examples/basicOpenBadgeCredential.json",
    "full": ROOT / "tests/assets/ob3/examples/fullOpenBadge.json",
}
#: Operations per round for each example: rounds long enough (about a second for the peer on a
#: quiet machine) that the scheduler's noise on a shared machine averages out within a round.
PER_ROUND = {"basic": 120, "full": 12}
OPERATIONS = ("sign", "verify")
SEED = bytes(range(32))
PEER_STACK = "@digitalbazaar/vc + @digitalbazaar/eddsa-rdfc-2022-cryptosuite (Node.js)"


def unsigned(path: Path, issuer: str) -> dict[str, Any]:
    document = json.loads(path.read_text())
    document.pop("proof", None)
    if isinstance(document.get("issuer"), dict):
        document["issuer"] = {**document["issuer"], "id": issuer}
    else:
        document["issuer"] = issuer
    return document


class Ours:
    """Credfolio's signer and verifier, warm, for each example."""

    def __init__(self) -> None:
        self.key = IssuerKey.from_seed(SEED)
        did = f"did:key:{self.key.public_key_multibase}"
        self.method = self.key.verification_method_id(did)
        loader = DocumentLoader.bundled()
        self.suite = Eddsa2022Suite(loader=loader)
        # Status is not checked, as in the peer's benchmark (the examples carry 1EdTech status).
        # Everything else is: contexts, terms, the 1EdTech schema, subject, proof, issuer, key,
        # validity window and endorsements.
        self.verifier = Verifier(
            loader=loader,
            resolve_key=Verifier.offline(loader=loader).resolve_key,
            resolve_status_list=None,
        )
        self.documents = {name: unsigned(path, did) for name, path in EXAMPLES.items()}
        self.signed = {}
        for name, document in self.documents.items():
            signed = self.sign(document)
            result = self.verifier.verify(signed)
            if result.check("proof") is None or result.check("proof").status != "passed":  # type: ignore[union-attr]
                raise SystemExit(f"our own {name} signature does not verify: {result.errors}")
            self.signed[name] = signed

    def sign(self, document: dict[str, Any]) -> dict[str, Any]:
        return self.suite.create_proof(document, key=self.key, verification_method=self.method)

    def bytes(self, name: str) -> int:
        return len(json.dumps(self.signed[name], separators=(",", ":")))

    def time(self, name: str, what: str, n: int) -> tuple[float, float]:
        """Wall-clock and CPU milliseconds per operation over ``n`` consecutive operations."""
        operation: Callable[[], Any]
        if what == "sign":
            document = self.documents[name]
            operation = lambda: self.sign(document)  # noqa: E731
        else:
            signed = self.signed[name]
            operation = lambda: self.verifier.verify(signed)  # noqa: E731
        cpu = time.process_time()
        start = time.perf_counter()
        for _ in range(n):
            operation()
        wall = time.perf_counter() - start
        return wall / n * 1000, (time.process_time() - cpu) / n * 1000


class Peer:
    """bench/peer_driver.mjs over the prepared peer harness: one request, one answer per line."""

    def __init__(self, directory: Path, workdir: Path) -> None:
        try:
            self.process = subprocess.Popen(
                ["node", str(ROOT / "bench" / "peer_driver.mjs"), str(directory), SEED.hex()],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        except OSError as exc:
            raise SystemExit(f"cannot start Node.js for the peer: {exc}") from None
        self.info: dict[str, Any] = {}
        for name, path in EXAMPLES.items():
            source = workdir / f"{name}.json"
            source.write_text(json.dumps(unsigned(path, "did:example:replaced")))
            self.info[name] = self.ask({"op": "load", "name": name, "path": str(source)})

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None  # noqa: S101
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the peer driver stopped (see its error output above)")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise SystemExit(f"the peer failed: {reply['error']}")
        return reply

    def time(self, name: str, what: str, n: int) -> tuple[float, float]:
        reply = self.ask({"op": "time", "name": name, "what": what, "n": n})
        return float(reply["mean_ms"]), float(reply["cpu_ms"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prepare_peer() -> tuple[Path | None, str]:
    """The prepared peer directory (scripts/peer, or CREDFOLIO_PEER_DIR), or why there is none."""
    configured = os.environ.get("CREDFOLIO_PEER_DIR")
    if configured:
        directory = Path(configured)
        if (directory / "node_modules").is_dir() and (directory / "lib.mjs").is_file():
            return directory, ""
        return None, f"CREDFOLIO_PEER_DIR={configured} is not a prepared peer (run scripts/peer)"
    print("preparing the peer (scripts/peer; the first time runs npm ci) ...", file=sys.stderr)
    try:
        run = subprocess.run(
            [str(ROOT / "scripts" / "peer")],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"scripts/peer could not run: {exc}"
    if run.returncode != 0:
        return None, f"scripts/peer failed: {run.stderr.strip().splitlines()[-1:]}"
    return Path(run.stdout.strip().splitlines()[-1]), ""


def machine(node_version: str | None) -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    return {
        "nproc": nproc,
        "cpu": model,
        "python": platform.python_version(),
        "node": node_version,
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def summary(times: list[tuple[float, float]]) -> dict[str, float]:
    median = statistics.median(wall for wall, _ in times)
    return {
        "ops_per_s": round(1000 / median, 1),
        "median_ms": round(median, 3),
        "median_cpu_ms": round(statistics.median(cpu for _, cpu in times), 3),
    }


def ratio(theirs: list[tuple[float, float]], mine: list[tuple[float, float]], index: int) -> float:
    """Median over rounds of their time / our time (wall-clock: index 0, CPU: index 1)."""
    each = [t[index] / m[index] for t, m in zip(theirs, mine, strict=True)]
    return round(statistics.median(each), 2)


def run(*, rounds: int, per_round: dict[str, int], use_peer: bool) -> dict[str, Any]:
    ours = Ours()
    peer: Peer | None = None
    note = ""
    with tempfile.TemporaryDirectory() as workdir:
        if use_peer:
            directory, note = prepare_peer()
            if directory is not None:
                peer = Peer(directory, Path(workdir))
        report: dict[str, Any] = {
            "machine": machine(peer.info["basic"]["node"] if peer else None),
            "method": (
                f"{rounds} rounds; each round times {per_round['basic']} (basic) or "
                f"{per_round['full']} (full) consecutive warm operations of one kind, "
                "alternating between the stacks; medians over rounds"
            ),
        }
        mine: dict[str, dict[str, list[tuple[float, float]]]] = {
            n: {o: [] for o in OPERATIONS} for n in EXAMPLES
        }
        theirs: dict[str, dict[str, list[tuple[float, float]]]] = {
            n: {o: [] for o in OPERATIONS} for n in EXAMPLES
        }
        try:
            for number in range(rounds):
                for name in EXAMPLES:
                    for what in OPERATIONS:
                        n = per_round[name]
                        if peer is not None and number % 2:
                            theirs[name][what].append(peer.time(name, what, n))
                        mine[name][what].append(ours.time(name, what, n))
                        if peer is not None and not number % 2:
                            theirs[name][what].append(peer.time(name, what, n))
        finally:
            if peer is not None:
                peer.close()
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["ours"] = {
        name: {"bytes": ours.bytes(name), **{o: summary(mine[name][o]) for o in OPERATIONS}}
        for name in EXAMPLES
    }
    if peer is None:
        report["peer"] = None
        report["ratios"] = None
        report["peer_unavailable"] = note or "skipped (--no-peer)"
        return report
    report["peer_stack"] = PEER_STACK
    report["peer"] = {
        name: {
            "bytes": peer.info[name]["bytes"],
            **{o: summary(theirs[name][o]) for o in OPERATIONS},
        }
        for name in EXAMPLES
    }
    report["ratios"] = {
        name: {what: ratio(theirs[name][what], mine[name][what], 0) for what in OPERATIONS}
        for name in EXAMPLES
    }
    report["cpu_ratios"] = {
        name: {what: ratio(theirs[name][what], mine[name][what], 1) for what in OPERATIONS}
        for name in EXAMPLES
    }
    report["ratio_ranges"] = {}
    report["best_round_ratios"] = {}
    for name in EXAMPLES:
        report["ratio_ranges"][name] = {}
        report["best_round_ratios"][name] = {}
        for what in OPERATIONS:
            each = [t[0] / m[0] for t, m in zip(theirs[name][what], mine[name][what], strict=True)]
            report["ratio_ranges"][name][what] = [round(min(each), 2), round(max(each), 2)]
            # Noise only ever adds time: the fastest round of each side is the nearest to what a
            # quiet machine would show.
            best = min(t[0] for t in theirs[name][what]) / min(m[0] for m in mine[name][what])
            report["best_round_ratios"][name][what] = round(best, 2)
    return report


def print_table(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(
        f"{m['date']}  {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, "
        f"Node.js {m['node'] or '-'}, load average {m['load_average_at_start'][0]}"
    )
    print(report["method"])
    peer = report["peer"]
    header = f"{'example':<8}{'op':<8}{'ours ops/s':>12}{'ms':>9}"
    if peer:
        header += (
            f"{'theirs ops/s':>14}{'ms':>9}{'ours/theirs':>13}{'range':>13}{'best':>8}{'CPU':>8}"
        )
    print(header)
    for name in EXAMPLES:
        for what in OPERATIONS:
            mine = report["ours"][name][what]
            line = f"{name:<8}{what:<8}{mine['ops_per_s']:>12}{mine['median_ms']:>9}"
            if peer:
                their = peer[name][what]
                low, high = report["ratio_ranges"][name][what]
                line += (
                    f"{their['ops_per_s']:>14}{their['median_ms']:>9}"
                    f"{report['ratios'][name][what]:>12}×{f'{low}–{high}':>13}"
                    f"{report['best_round_ratios'][name][what]:>7}×"
                    f"{report['cpu_ratios'][name][what]:>7}×"
                )
            print(line)
    if peer:
        print(
            "ours/theirs: median over rounds of their time / ours (wall clock), its range over "
            "rounds, the ratio of each side's fastest round, and the median on CPU time "
            "(Node.js: all of its threads)"
        )
    else:
        print(f"(no peer figures: {report['peer_unavailable']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--per-round",
        type=int,
        default=None,
        help=f"operations per round for both examples (default: {PER_ROUND})",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip the JavaScript stack")
    args = parser.parse_args()
    per_round = (
        dict(PER_ROUND) if args.per_round is None else dict.fromkeys(EXAMPLES, args.per_round)
    )
    report = run(rounds=args.rounds, per_round=per_round, use_peer=not args.no_peer)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
