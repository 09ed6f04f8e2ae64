"""A real ``credfolio serve`` (gunicorn) in a subprocess on a free loopback port, for tests that
need the real server: started, waited for, stopped (SIGTERM, then SIGKILL) in a ``with``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import TEST_KEK

CREDFOLIO = str(Path(sys.executable).parent / "credfolio")
#: Starting gunicorn and building the app on a busy machine; a deadline, not a measurement.
START_DEADLINE = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Reply:
    """An HTTP answer: status, headers, body (also used by the durability tests' client)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    stderr: Path

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        # S310: the URL is always this server's http://127.0.0.1:<port>, never user input.
        request = urllib.request.Request(self.url + path, headers=dict(headers or {}))  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def log_lines(self) -> list[str]:
        return self.stderr.read_text(encoding="utf-8", errors="replace").splitlines()

    def json_log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_lines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
        return [line for line in lines if isinstance(line, dict)]


def server_environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The test's environment without any ``CREDFOLIO_*`` or Prometheus setting, plus these."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("CREDFOLIO_") and name != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(
        CREDFOLIO_INSTANCE_PATH=str(tmp_path / "instance"),
        CREDFOLIO_KEY_ENCRYPTION_SECRET=TEST_KEK,
        CREDFOLIO_DATABASE_URL=f"sqlite:///{tmp_path / 'served.sqlite3'}",
        TMPDIR=str(tmp_path),  # the metrics directory lands here, where the test can see it
    )
    env.update(settings)
    return env


def create_signing_key(env: Mapping[str, str], cwd: Path) -> None:
    """``credfolio keys create`` against a server's database (with the server's environment)."""
    done = subprocess.run(
        [CREDFOLIO, "keys", "create"], env=dict(env), cwd=cwd, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@contextlib.contextmanager
def running_server(
    tmp_path: Path,
    *arguments: str,
    env: Mapping[str, str] | None = None,
    command: tuple[str, ...] = (CREDFOLIO, "serve"),
) -> Iterator[Server]:
    """``credfolio serve --bind 127.0.0.1:<free port> ARGUMENTS`` (or another ``command`` that
    takes ``--bind``), ready (``/healthz`` 200)."""
    port = free_port()
    stderr = tmp_path / f"serve-{port}.log"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}", *arguments],
            env=dict(env) if env is not None else server_environment(tmp_path),
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    server = Server(process, f"http://127.0.0.1:{port}", stderr)
    try:
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if process.poll() is not None:
                raise AssertionError(f"credfolio serve exited early:\n{stderr.read_text()}")
            with contextlib.suppress(OSError):
                if server.get("/healthz").status == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"credfolio serve did not start:\n{stderr.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
