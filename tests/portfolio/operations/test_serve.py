"""``credfolio serve`` (portfolio/operations/serve.py): a real gunicorn with two workers on a free
loopback
port serves the probes, logs JSON lines with request ids, and /metrics sums what both workers
counted; bad options and a production configuration without its secrets stop it with a clear
message before any worker starts."""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.serving import CREDFOLIO, create_signing_key, running_server, server_environment

HEALTHZ_COUNT = re.compile(
    r'^flask_http_request_duration_seconds_count\{method="GET",rule="/healthz",status="200"\} '
    r"([0-9.e+]+)$",
    re.MULTILINE,
)


def worker_pids_that_served(tmp_path: Path) -> set[str]:
    """The pids of the workers that recorded a request (their histogram files)."""
    files = tmp_path.glob("credfolio-metrics-*/histogram_*.db")
    return {path.stem.removeprefix("histogram_") for path in files}


def test_two_workers_serve_and_metrics_sum_both(tmp_path):
    with running_server(tmp_path, "--workers", "2", "--migrate") as server:
        # --migrate ran before the workers started; without a signing key, not ready to issue.
        unready = server.get("/readyz")
        assert unready.status == 503
        checks = {check["name"]: check for check in unready.json()["checks"]}
        assert checks["database"]["status"] == "ok"
        assert checks["keys"]["status"] == "failed" and "cannot sign" in checks["keys"]["detail"]
        create_signing_key(server_environment(tmp_path), tmp_path)
        assert server.get("/readyz").status == 200
        sent = 0
        with ThreadPoolExecutor(max_workers=6) as pool:
            # Concurrent requests spread over both workers; keep going until both have served
            # some (bounded: a server that never uses its second worker fails the test).
            for _ in range(40):
                statuses = list(pool.map(lambda _i: server.get("/healthz").status, range(12)))
                assert statuses == [200] * 12
                sent += 12
                if len(worker_pids_that_served(tmp_path)) >= 2:
                    break
        assert len(worker_pids_that_served(tmp_path)) == 2
        for _ in range(3):  # whichever worker answers the scrape, it reports everyone's count
            text = server.get("/metrics").text
            match = HEALTHZ_COUNT.search(text)
            assert match is not None, text[:2000]
            assert float(match[1]) == sent + 1  # + the server's own start-up probe
            assert "credfolio_credentials_issued_total" in text

        home = server.get("/", headers={"X-Request-ID": "serve-test-1"})
        assert home.status == 200
        assert home.headers["X-Request-ID"] == "serve-test-1"
        metrics_dir = next(tmp_path.glob("credfolio-metrics-*"))
    lines = server.json_log_lines()
    access = [line for line in lines if line.get("request_id") == "serve-test-1"]
    assert len(access) == 1
    assert access[0]["path"] == "/" and access[0]["status"] == 200
    assert access[0]["logger"] == "credfolio.request"
    assert any(line.get("logger") == "gunicorn.error" for line in lines)  # gunicorn's too
    # Two workers with rate limits in memory (no Redis configured): said once, at start-up.
    warnings = [line for line in lines if "in their own memory" in str(line.get("message"))]
    assert len(warnings) == 1 and warnings[0]["level"] == "WARNING"
    assert not metrics_dir.exists()  # removed by the master on exit


def test_the_documented_plain_gunicorn_command_works_too(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = server_environment(
        tmp_path, CREDFOLIO_LOG_FORMAT="json", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
    )
    gunicorn = (
        str(Path(CREDFOLIO).parent / "gunicorn"),
        "-c",
        "python:portfolio.operations.gunicorn_config",
    )
    arguments = ("--workers", "1", "wsgi:create_app()")
    with running_server(tmp_path, *arguments, env=env, command=gunicorn) as server:
        answer = server.get("/healthz", headers={"X-Request-ID": "plain-1"})
        assert answer.headers["X-Request-ID"] == "plain-1"
        assert HEALTHZ_COUNT.search(server.get("/metrics").text) is not None
    assert any(line.get("logger") == "gunicorn.error" for line in server.json_log_lines())
    assert list(metrics_dir.glob("histogram_*.db"))  # the figures went to the shared directory


def run_serve(tmp_path: Path, *arguments: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CREDFOLIO, "serve", *arguments],
        env=server_environment(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--workers", "0"), "Invalid value for '--workers'"),
        (("--threads", "many"), "Invalid value for '--threads'"),
        (("--bind", "localhost"), "is not HOST:PORT"),
        (("--bind", "127.0.0.1:99999"), "is not HOST:PORT"),
        (("--timeout", "-5"), "Invalid value for '--timeout'"),
    ],
)
def test_bad_options_are_refused_clearly(tmp_path, arguments, message):
    result = run_serve(tmp_path, *arguments)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_bad_worker_count_in_the_environment_is_refused_too(tmp_path):
    result = run_serve(tmp_path, CREDFOLIO_WORKERS="lots")
    assert result.returncode == 2
    assert "Invalid value for '--workers'" in result.stderr


def test_production_without_its_secrets_does_not_start(tmp_path):
    env = server_environment(tmp_path, CREDFOLIO_ENV="production")
    env.pop("CREDFOLIO_KEY_ENCRYPTION_SECRET")
    result = subprocess.run(
        [CREDFOLIO, "serve", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot start:" in result.stderr
    assert "CREDFOLIO_SECRET_KEY must be set in production" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_loopback_rate_limit_store_behind_a_public_url_is_warned_about(tmp_path):
    """Issue 18 §4: a Redis on each machine silently gives each server its own counters."""
    env = server_environment(
        tmp_path,
        CREDFOLIO_RATELIMIT_STORAGE_URL="redis://127.0.0.1:6379/0",
        CREDFOLIO_PUBLIC_URL="https://credfolio.school.example",
    )
    with running_server(tmp_path, "--workers", "1", "--migrate", env=env) as server:
        assert server.get("/healthz").status == 200
    warnings = [
        line
        for line in server.json_log_lines()
        if "rate-limit store (CREDFOLIO_RATELIMIT_STORAGE_URL) is on this machine"
        in str(line.get("message"))
    ]
    assert len(warnings) == 1 and "https://credfolio.school.example" in warnings[0]["message"]


def test_a_killed_master_s_metrics_folder_is_removed_at_the_next_start(tmp_path):
    """Issue 18 §8: a SIGKILLed master never removes its metrics folder."""
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that has exited
    abandoned = tmp_path / "credfolio-metrics-abandoned"
    running = tmp_path / "credfolio-metrics-running"
    for folder, pid in ((abandoned, gone.pid), (running, os.getpid())):
        folder.mkdir()
        (folder / "master.pid").write_text(str(pid))
        (folder / "counter_1.db").write_bytes(b"old counts")
    with running_server(tmp_path, "--workers", "1") as server:
        assert server.get("/healthz").status == 200
        assert not abandoned.exists()
        assert running.is_dir()  # another server's (this test's own pid: alive)
