"""``credfolio serve``: the app under gunicorn, through gunicorn's programmatic
``BaseApplication``, so that the same ``create_app()`` and ``CREDFOLIO_*`` configuration apply
as everywhere else.  The equivalent plain command is in docs/deploy.md.

The master builds the app once before forking — a bad configuration (a missing production
secret, an unknown setting value) stops it with a clear message instead of crash-looping
workers — applies the migrations when asked (``--migrate``, once, before any worker starts),
and sets up Prometheus' multiprocess directory so that ``/metrics`` sums every worker.  Each
worker then builds its own app (its own database pool, storage client and rate-limit storage).

The one command not in ``cli.py``: it joins the ``credfolio`` group itself (wsgi.py) and runs
before any app exists, so it must not import what sets up Prometheus before it has chosen the
multiprocess directory (this module imports no feature).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_babel import gettext as _
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from issuer_keys.errors import IssuerKeyError
from portfolio.accounts.issuers import PublicUrlChanged, default_issuer
from portfolio.core.limits import on_loopback, shares_counters
from portfolio.core.request_log import JsonFormatter
from portfolio.core.settings import MULTIPROC_ENV, settings
from portfolio.operations import shared_secrets

_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):(?P<port>\d{1,5})")


def default_workers() -> int:
    """gunicorn's rule of thumb, ``2 × CPUs + 1``, capped at 8 (each worker holds a database
    pool: more workers need a bigger PostgreSQL ``max_connections``, docs/deploy.md)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(2 * cpus + 1, 8)


def check_bind(value: str) -> str:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) or ``unix:PATH``; raises ``click.BadParameter``."""
    if value.startswith("unix:"):
        if len(value) == len("unix:"):
            raise click.BadParameter(_("unix: needs a socket path, e.g. unix:/run/credfolio.sock"))
        return value
    match = _HOST_PORT.fullmatch(value)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise click.BadParameter(
            _("%(value)r is not HOST:PORT (port 1-65535), [IPv6]:PORT or unix:PATH", value=value),
            param_hint="'--bind'",
        )
    return value


def _binds(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    return [check_bind(value) for value in values] or ["127.0.0.1:5000"]


def child_exit(_server: Any, worker: Any) -> None:
    """gunicorn hook: a worker exited — its live gauges leave the multiprocess figures (its
    counters stay: totals do not shrink when a worker is recycled).  Runs in the gunicorn
    master, where no app (no Settings) exists: ``serve`` set the variable itself."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # untyped


class JsonGunicornLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's own messages (worker boots, timeouts) as JSON lines too."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


class CredfolioServer(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn serving ``factory()`` with the given settings (gunicorn's names)."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        # gunicorn 27's control socket defaults to one path per user ($HOME/.gunicorn): two
        # servers of one user would fight over it.  Credfolio does not use it.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        return self.factory()


def _prepare(factory: Callable[[], Flask], *, migrate: bool, workers: int = 1) -> None:
    """Build the app once in the master (fail fast), migrate if asked, warn about rate limits
    that several workers would each count on their own, then close its pool so that no database
    connection is shared with the forked workers."""
    from flask_migrate import upgrade

    from portfolio.core.db import db

    try:
        app = factory()
    except (RuntimeError, ValueError) as exc:
        raise click.ClickException(_("cannot start: %(error)s", error=exc)) from None
    except IssuerKeyError as exc:
        raise click.ClickException(_("cannot start: %(error)s", error=exc.message)) from None
    with app.app_context():
        if migrate:
            try:
                with _logging_kept():
                    upgrade()  # under the migration lock (core/migration_lock.py)
            except SQLAlchemyError as exc:
                # One line, never a traceback: the database's own first line says what failed.
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise click.ClickException(
                    _("cannot start: the migrations failed: %(reason)s", reason=reason)
                ) from None
            app.logger.info("migrations applied")
        try:
            shared_secrets.check_and_record(shared_secrets.app_fingerprints())
        except shared_secrets.SecretsDiffer as exc:
            raise click.ClickException(_("cannot start: %(error)s", error=exc.message)) from None
        if inspect(db.engine).has_table("issuers"):
            try:
                default_issuer()  # made now, or refused now: not at the first request
            except PublicUrlChanged as exc:
                raise click.ClickException(
                    _("cannot start: %(error)s", error=exc.message)
                ) from None
        storage = settings(app).ratelimit_storage_url
        if workers > 1 and not shares_counters(storage):
            app.logger.warning(
                "%d workers count rate limits each in their own memory (%s), so every limit is "
                "%d times what it says; set CREDFOLIO_RATELIMIT_STORAGE_URL to a Redis every "
                "worker shares (docs/deploy.md).  Sign-in lockout is unaffected: it counts in "
                "the database.",
                workers,
                storage,
                workers,
            )
        public_url = settings(app).public_url
        if shares_counters(storage) and on_loopback(storage) and not on_loopback(public_url):
            app.logger.warning(
                "the rate-limit store (CREDFOLIO_RATELIMIT_STORAGE_URL) is on this machine while "
                "the service is public at %s: with several servers, each counts on its own; "
                "point every server at one shared Redis (docs/deploy.md)",
                public_url,
            )
        db.engine.dispose()


@contextlib.contextmanager
def _logging_kept() -> Iterator[None]:
    """Alembic's env.py applies its own logging file (a text handler on the root logger, every
    other logger disabled); the forked workers must not inherit that: put logging back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = list(logging.root.manager.loggerDict.values())
    disabled = {id(item) for item in loggers if getattr(item, "disabled", False)}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for item in logging.root.manager.loggerDict.values():
            if isinstance(item, logging.Logger):
                item.disabled = id(item) in disabled


METRICS_PREFIX = "credfolio-metrics-"
MASTER_PID_FILE = "master.pid"


def remove_abandoned_metrics_dirs(temp: Path) -> list[Path]:
    """Remove the metrics folders of masters that are gone (a SIGKILLed master never removes
    its own, issue 18 §8); those of running servers, or without a readable pid, stay.  Returns
    what was removed."""
    removed = []
    for folder in temp.glob(f"{METRICS_PREFIX}*"):
        try:
            pid = int((folder / MASTER_PID_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if pid > 0 and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def make_serve_command(factory: Callable[[], Flask]) -> click.Command:
    """The ``serve`` command for the app built by ``factory`` (wsgi.create_app)."""

    @click.command("serve")
    @_serve_options
    def serve(
        bind: list[str],
        workers: int,
        threads: int,
        timeout: int,
        graceful_timeout: int,
        migrate: bool,
    ) -> None:
        """Serve the app under gunicorn (production server; JSON logs by default)."""
        # The one place that writes the environment: it runs before any app exists and sets
        # up what the master's and the workers' apps then read (through their Settings).
        os.environ.setdefault("CREDFOLIO_LOG_FORMAT", "json")
        # Every worker's app knows how many share this machine's limits (core/limits.py).
        os.environ["CREDFOLIO_WORKERS"] = str(workers)
        # A fresh directory for this server's metrics, set before prometheus_client is first
        # imported (it picks its storage at import time) and removed when the master exits.
        remove_abandoned_metrics_dirs(Path(tempfile.gettempdir()))
        metrics_dir = tempfile.mkdtemp(prefix=METRICS_PREFIX)
        (Path(metrics_dir) / MASTER_PID_FILE).write_text(str(os.getpid()))
        os.environ[MULTIPROC_ENV] = metrics_dir
        master = os.getpid()
        try:
            _prepare(factory, migrate=migrate, workers=workers)
            # As the environment says (set above unless the operator chose): gunicorn's own
            # logger is set up here, in the master, outside any app.
            json_logs = os.environ["CREDFOLIO_LOG_FORMAT"].strip().lower() == "json"
            options: dict[str, Any] = {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "timeout": timeout,
                "graceful_timeout": graceful_timeout,
                "child_exit": child_exit,
                "proc_name": "credfolio",
                # The app logs one line per request itself (request id, user): no second one.
                "accesslog": None,
                "errorlog": "-",
            }
            if json_logs:
                options["logger_class"] = JsonGunicornLogger
            CredfolioServer(factory, options).run()
        finally:
            # Workers leave through here too (gunicorn's SystemExit in the forked child).
            if os.getpid() == master:
                shutil.rmtree(metrics_dir, ignore_errors=True)

    return serve


def _serve_options(command: Callable[..., None]) -> Callable[..., None]:
    """Apply the ``serve`` command's options, in this order (each also read from its
    ``CREDFOLIO_*`` variable), as stacked ``@click.option`` decorators would."""
    options = (
        click.option(
            "--bind",
            "-b",
            multiple=True,
            envvar="CREDFOLIO_BIND",
            callback=_binds,
            help="HOST:PORT, [IPv6]:PORT or unix:PATH (repeatable). Default 127.0.0.1:5000.",
        ),
        click.option(
            "--workers",
            "-w",
            type=click.IntRange(1, 64),
            envvar="CREDFOLIO_WORKERS",
            default=default_workers,
            show_default="2 × CPUs + 1, at most 8",
            help="Worker processes.",
        ),
        click.option(
            "--threads",
            type=click.IntRange(1, 64),
            envvar="CREDFOLIO_THREADS",
            default=1,
            show_default=True,
            help="Threads per worker (more than 1 uses gunicorn's gthread worker).",
        ),
        click.option(
            "--timeout",
            type=click.IntRange(1, 3600),
            envvar="CREDFOLIO_TIMEOUT",
            default=60,
            show_default=True,
            help="Seconds a request may take before its worker is restarted.",
        ),
        click.option(
            "--graceful-timeout",
            type=click.IntRange(1, 3600),
            envvar="CREDFOLIO_GRACEFUL_TIMEOUT",
            default=30,
            show_default=True,
            help="Seconds workers get to finish their requests on restart or shutdown.",
        ),
        click.option(
            "--migrate/--no-migrate",
            envvar="CREDFOLIO_MIGRATE",
            default=False,
            help="Apply the database migrations (once, in the master) before starting workers.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command
