"""Outgoing mail: the outbox folder when no SMTP server is configured, real SMTP delivery to a
tiny server on 127.0.0.1 otherwise, and settings from the config or the environment."""

from __future__ import annotations

import base64
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from portfolio.core import mail
from portfolio.core.mail import MailError, MailSettings, build_message, deliver, read_outbox
from portfolio.core.settings import Settings


@dataclass
class Received:
    """What the test SMTP server was given."""

    envelopes: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT."""

    server: _SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("ascii").rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-test")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(command.split()[2]).split(b"\0")
                self.server.received.logins.append((user.decode(), password.decode()))
                self.reply("235 ok")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip(" <>")
                self.reply("250 ok")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip(" <>")
                if address.endswith("@refused.example"):
                    self.reply("550 no such user")
                    continue
                recipients.append(address)
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.received.envelopes.append((sender, recipients, data))
                sender, recipients = "", []
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP
                self.reply("250 ok")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    received: Received


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Received]]:
    """An SMTP server on 127.0.0.1 (a free port) for the duration of a test."""
    server = _SmtpServer(("127.0.0.1", 0), _SmtpHandler)
    server.received = Received()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], server.received
    server.shutdown()
    server.server_close()
    thread.join()


def _message(to: str = "ada@school.example"):
    return build_message(
        sender="School <no-reply@school.example>", to=to, subject="Hello", body="Héllo, Ada.\n"
    )


# -- the outbox ------------------------------------------------------------------------------


def test_without_an_smtp_host_messages_are_written_to_the_outbox(tmp_path: Path):
    settings = MailSettings(sender="x@school.example", outbox=tmp_path / "outbox")
    path = deliver(_message(), settings)
    assert path is not None
    assert path.parent == tmp_path / "outbox"
    assert path.suffix == ".eml"
    assert path.stat().st_mode & 0o777 == 0o600  # it may hold a sign-up or reset link
    [message] = read_outbox(tmp_path / "outbox")
    assert message["To"] == "ada@school.example"
    assert message["Subject"] == "Hello"
    assert message.get_content() == "Héllo, Ada.\n"


def test_the_outbox_keeps_every_message_in_order(tmp_path: Path):
    settings = MailSettings(sender="x@school.example", outbox=tmp_path)
    for name in ("first", "second", "third"):
        deliver(_message(f"{name}@school.example"), settings)
    assert [m["To"] for m in read_outbox(tmp_path)] == [
        "first@school.example",
        "second@school.example",
        "third@school.example",
    ]


def test_an_empty_or_missing_outbox_reads_as_no_messages(tmp_path: Path):
    assert read_outbox(tmp_path / "nowhere") == []


def test_send_uses_the_instance_outbox_of_the_app(app):
    with app.app_context():
        mail.send(to="ada@school.example", subject="Hi", body="Body")
    [message] = read_outbox(Path(app.instance_path) / "outbox")
    assert message["From"] == mail.DEFAULT_SENDER


def test_a_line_break_in_a_header_is_refused_not_cleaned_up():
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        build_message(
            sender="x@school.example",
            to="ada@school.example\r\nBcc: everyone@school.example",
            subject="Hi",
            body="",
        )


# -- settings --------------------------------------------------------------------------------


def test_settings_come_from_the_config_before_the_environment(tmp_path: Path):
    config = {"CREDFOLIO_SMTP_HOST": "smtp.config.example", "CREDFOLIO_MAIL_FROM": "a@b.example"}
    environ = {
        "CREDFOLIO_SMTP_HOST": "smtp.env.example",
        "CREDFOLIO_SMTP_PORT": "2525",
        "CREDFOLIO_SMTP_USERNAME": "mailer",
        "CREDFOLIO_SMTP_PASSWORD": "secret",
        "CREDFOLIO_SMTP_STARTTLS": "false",
        "CREDFOLIO_MAIL_OUTBOX": str(tmp_path / "box"),
    }
    settings = MailSettings.from_settings(
        Settings.from_sources(environ, config), instance_path=tmp_path
    )
    assert settings == MailSettings(
        sender="a@b.example",
        outbox=tmp_path / "box",
        host="smtp.config.example",
        port=2525,
        username="mailer",
        password="secret",
        starttls=False,
    )


def test_by_default_mail_goes_to_the_instance_outbox_and_starttls_is_on(tmp_path: Path):
    settings = MailSettings.from_settings(Settings.from_sources({}), instance_path=tmp_path)
    assert settings.host is None
    assert settings.outbox == tmp_path / "outbox"
    assert settings.starttls is True
    assert settings.port == 587


# -- real SMTP -------------------------------------------------------------------------------


def test_messages_are_delivered_to_the_configured_smtp_server(smtp_server, tmp_path: Path):
    port, received = smtp_server
    settings = MailSettings(
        sender="no-reply@school.example",
        outbox=tmp_path / "outbox",
        host="127.0.0.1",
        port=port,
        username="mailer",
        password="mail password",
        starttls=False,  # the test server speaks plain SMTP on loopback
    )
    assert deliver(_message(), settings) is None
    assert received.logins == [("mailer", "mail password")]
    [(sender, recipients, data)] = received.envelopes
    assert sender == "no-reply@school.example"
    assert recipients == ["ada@school.example"]
    message = BytesParser(policy=policy.default).parsebytes(data.replace(b"\r\n", b"\n"))
    assert message["Subject"] == "Hello"
    assert message.get_content() == "Héllo, Ada.\n"
    assert read_outbox(tmp_path / "outbox") == []  # not written to the outbox as well


def test_a_refused_recipient_raises_a_mail_error(smtp_server, tmp_path: Path):
    port, received = smtp_server
    settings = MailSettings(
        sender="x@school.example", outbox=tmp_path, host="127.0.0.1", port=port, starttls=False
    )
    with pytest.raises(MailError, match="SMTPRecipientsRefused"):
        deliver(_message("nobody@refused.example"), settings)
    assert received.envelopes == []


def test_with_starttls_on_a_server_without_it_is_not_used_in_clear(smtp_server, tmp_path):
    port, _received = smtp_server
    settings = MailSettings(
        sender="x@school.example", outbox=tmp_path, host="127.0.0.1", port=port, starttls=True
    )
    # The test server does not offer STARTTLS: refusing to go on in clear text is an error.
    with pytest.raises(MailError, match="SMTPNotSupportedError"):
        deliver(_message(), settings)


def test_an_unreachable_smtp_server_raises_a_mail_error(tmp_path: Path):
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = MailSettings(
        sender="x@school.example", outbox=tmp_path, host="127.0.0.1", port=port, starttls=False
    )
    with pytest.raises(MailError, match="ConnectionRefusedError"):
        deliver(_message(), settings)
