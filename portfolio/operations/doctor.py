"""``credfolio doctor``: a deployment checked from one server (issue 18 §7).

Each check is one line with what to fix.  The first four are what ``/readyz`` checks; the rest
are what a multi-server deployment needs and ``/readyz`` cannot see: secrets that match the
other servers', a rate-limit store every server shares, a mail server that answers, and a public
URL served over HTTPS with a certificate this machine trusts.  The same list, in the same order,
is docs/deploy.md's "first start" checklist.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from limits.storage import storage_from_string

from portfolio.core.limits import on_loopback, shares_counters
from portfolio.core.settings import settings
from portfolio.operations import readiness, shared_secrets

#: Seconds any one network check may take.
TIMEOUT = 5.0


@dataclass(frozen=True)
class Finding:
    name: str
    status: str  # "ok", "warning" or "failed"
    detail: str


def _from_readiness(check: readiness.Check) -> Finding:
    return Finding(check.name, "ok" if check.status == "ok" else "failed", check.detail)


def check_secrets() -> Finding:
    try:
        # Only compared: the first `credfolio serve` records them, never the doctor.
        found = shared_secrets.check_and_record(shared_secrets.app_fingerprints(), record=False)
    except shared_secrets.SecretsDiffer as exc:
        return Finding("secrets", "failed", exc.message)
    if found.recorded:
        return Finding(
            "secrets", "ok", _("none recorded yet: the first `credfolio serve` records these")
        )
    return Finding("secrets", "ok", _("the same as the other servers'"))


def check_rate_limits() -> Finding:
    config = settings()
    url = config.ratelimit_storage_url
    if not shares_counters(url):
        return Finding(
            "rate limits",
            "warning",
            _(
                "counted in each worker's memory: set CREDFOLIO_RATELIMIT_STORAGE_URL to a Redis "
                "every server shares"
            ),
        )
    try:
        reachable = storage_from_string(url, socket_connect_timeout=TIMEOUT).check()
    except Exception:  # an unknown scheme, a library error: reported, never raised
        reachable = False
    if not reachable:
        return Finding(
            "rate limits",
            "failed",
            _("the Redis in CREDFOLIO_RATELIMIT_STORAGE_URL does not answer"),
        )
    if on_loopback(url) and not on_loopback(config.public_url):
        return Finding(
            "rate limits",
            "warning",
            _("Redis answers, but on this machine: other servers count on their own"),
        )
    return Finding("rate limits", "ok", _("Redis answers"))


def check_mail() -> Finding:
    config = settings()
    if not config.smtp_host:
        status = "failed" if config.production else "warning"
        where = config.mail_outbox or f"{current_app.instance_path}/outbox"
        return Finding(
            "mail",
            status,
            _(
                "no SMTP server: mail is written to %(where)s; set CREDFOLIO_SMTP_HOST",
                where=where,
            ),
        )
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT) as smtp:
            smtp.ehlo()
            if config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.smtp_username:
                smtp.login(config.smtp_username, config.smtp_password or "")
    except (OSError, smtplib.SMTPException) as exc:
        return Finding(
            "mail",
            "failed",
            _(
                "%(host)s:%(port)s did not accept us: %(error)s",
                host=config.smtp_host,
                port=config.smtp_port,
                error=type(exc).__name__,
            ),
        )
    return Finding(
        "mail",
        "ok",
        _("%(host)s:%(port)s answers", host=config.smtp_host, port=config.smtp_port),
    )


def check_public_url() -> Finding:
    url = settings().public_url
    parts = urlsplit(url)
    if parts.scheme != "https":
        status = "failed" if settings().production else "warning"
        return Finding(
            "public URL",
            status,
            _("%(url)s is not HTTPS: browsers and verifiers expect it", url=url),
        )
    host, port = parts.hostname or "", parts.port or 443
    try:
        with (
            socket.create_connection((host, port), timeout=TIMEOUT) as raw,
            ssl.create_default_context().wrap_socket(raw, server_hostname=host),
        ):
            pass
    except (OSError, ssl.SSLError) as exc:
        return Finding(
            "public URL",
            "failed",
            _(
                "%(host)s:%(port)s: no trusted TLS (%(error)s)",
                host=host,
                port=port,
                error=type(exc).__name__,
            ),
        )
    return Finding("public URL", "ok", _("%(url)s answers with a trusted certificate", url=url))


CHECKS: tuple[Callable[[], Finding], ...] = (
    lambda: _from_readiness(readiness.check_database()),
    check_secrets,
    lambda: _from_readiness(readiness.check_storage()),
    lambda: _from_readiness(readiness.check_keys()),
    check_rate_limits,
    check_mail,
    check_public_url,
)


def examine() -> list[Finding]:
    """Every check, in the checklist's order."""
    return [check() for check in CHECKS]
