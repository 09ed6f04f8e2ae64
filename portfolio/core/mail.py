"""Outgoing mail: through the configured SMTP server, or, when none is configured (the demo and
tests), as ``.eml`` files in an outbox folder.  Settings come from ``CREDFOLIO_SMTP_*`` (read by
:mod:`portfolio.core.settings`)."""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import Response, after_this_request, current_app, has_request_context

from portfolio.core.errors import UnavailableError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.settings import Settings
from portfolio.core.settings import settings as app_settings

log = logging.getLogger(__name__)

#: Seconds to wait for the SMTP server before giving up (a hung server must not hang a request).
SMTP_TIMEOUT = 10.0
DEFAULT_SENDER = "Credfolio <no-reply@credfolio.invalid>"


class MailError(UnavailableError):
    """The message could not be handed to the SMTP server (message safe to show an admin)."""

    code = "MAIL_UNAVAILABLE"


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes: ``host`` None means the outbox folder."""

    sender: str
    outbox: Path
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True

    @classmethod
    def from_settings(cls, config: Settings, *, instance_path: str | Path) -> MailSettings:
        """The mail part of the app's settings (the outbox defaults to ``<instance>/outbox``)."""
        return cls(
            sender=config.mail_from or DEFAULT_SENDER,
            outbox=Path(config.mail_outbox or Path(instance_path) / "outbox"),
            host=config.smtp_host,
            port=config.smtp_port,
            username=config.smtp_username,
            password=config.smtp_password,
            starttls=config.smtp_starttls,
        )


def build_message(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message.

    Raises ``ValueError`` when a header contains a line break (header injection): the
    ``email`` package refuses it, and we never try to clean it up.
    """
    message = EmailMessage(policy=policy.default)  # smtplib sends it with CRLF line ends
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="credfolio")
    message.set_content(body)
    return message


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write ``message`` as a new ``.eml`` file (mode 0600: it may hold a sign-up or reset link)
    and return its path.  Names sort by time of writing."""
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = outbox / f"{stamp}-{secrets.token_hex(4)}.eml"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(message.as_bytes())
    return path


def deliver(message: EmailMessage, settings: MailSettings) -> Path | None:
    """Send ``message`` through SMTP, or write it to the outbox when no host is configured.

    Returns the outbox file's path, or None when it went to the SMTP server.  Raises
    :class:`MailError` when the SMTP server cannot be reached or refuses the message.
    """
    if settings.host is None:
        path = write_to_outbox(message, settings.outbox)
        # The recipient and subject only: the body may hold a secret link.
        log.info("mail to %s (%s) written to %s", message["To"], message["Subject"], path)
        return path
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail to %s could not be sent: %s", message["To"], error)
        raise MailError(
            _l(
                "the mail server did not take the message (%(problem)s)",
                problem=type(error).__name__,
            )
        ) from error
    log.info("mail to %s (%s) sent through %s", message["To"], message["Subject"], settings.host)
    return None


def settings() -> MailSettings:
    """The current app's mail settings (needs an application context)."""
    return MailSettings.from_settings(app_settings(), instance_path=current_app.instance_path)


def send(*, to: str, subject: str, body: str) -> Path | None:
    """Build and deliver a message with the current app's settings; see :func:`deliver`.

    Raises :class:`MailError` (SMTP failure) or ``ValueError`` (a line break in a header).
    """
    config = settings()
    return deliver(build_message(sender=config.sender, to=to, subject=subject, body=body), config)


def send_after_response(*, to: str, subject: str, body: str, what: str) -> None:
    """Deliver a message once the current response has gone out (queued on the response's
    close, which the WSGI server calls after the last byte is sent), so that how long the mail
    server takes can never show in the response time.  Outside a request it is sent at once.

    For mail whose timing would tell something, such as whether an account exists (issue 15
    §5: password reset).  Failures are logged, naming ``what`` (the message may hold a secret
    link, so neither the body nor the link are logged); nothing is raised, because nobody is
    waiting any more.  A worker killed between the response and the delivery loses the message:
    the reader asks again.  Raises ``ValueError`` at once for a line break in a header.
    """
    config = settings()
    message = build_message(sender=config.sender, to=to, subject=subject, body=body)

    def deliver_quietly() -> None:
        try:
            deliver(message, config)
        except MailError:
            log.warning("%s was not sent", what)
        except Exception:  # a worker must survive whatever the mail library raises
            log.exception("%s was not sent", what)

    if not has_request_context():
        deliver_quietly()
        return

    @after_this_request
    def queue(response: Response) -> Response:
        response.call_on_close(deliver_quietly)
        return response


def read_outbox(outbox: Path) -> list[EmailMessage]:
    """Every message in the outbox folder, oldest first (for the demo and tests)."""
    if not outbox.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        # policy.default makes the parser build EmailMessage objects.
        messages.append(parser.parsebytes(path.read_bytes()))
    return messages
