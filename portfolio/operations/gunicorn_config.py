"""gunicorn settings for running the app with the plain ``gunicorn`` command (docs/deploy.md):
``gunicorn -c python:portfolio.operations.gunicorn_config 'wsgi:create_app()'``.  ``credfolio
serve`` sets
the same itself."""

from __future__ import annotations

import os

from portfolio.operations.serve import JsonGunicornLogger, child_exit

__all__ = ["accesslog", "child_exit", "control_socket_disable", "logger_class"]

#: The app logs one line per request (with its request id): no second access log.
accesslog = None
#: gunicorn 27's per-user control socket is not used (two servers would share its path).
control_socket_disable = True
# gunicorn reads this file in its master, before any app (and so any Settings) exists: the
# environment it was started with is the only source of the log format here.
if os.environ.get("CREDFOLIO_LOG_FORMAT", "").strip().lower() == "json":
    logger_class = JsonGunicornLogger
