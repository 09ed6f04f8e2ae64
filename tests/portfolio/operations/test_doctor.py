"""`credfolio doctor` (issue 18 §7): one line per check, in the first-start checklist's order,
with what to fix; exit 1 when a check failed, 0 when only warnings remain."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from portfolio.core.settings import EXTENSION, settings
from portfolio.operations import shared_secrets

ORDER = ["database", "secrets", "storage", "keys", "rate limits", "mail", "public URL"]


def run_doctor(app: Any, **changes: Any) -> Any:
    app.extensions[EXTENSION] = replace(
        settings(app), public_url="http://127.0.0.1:5000", **changes
    )
    return app.test_cli_runner().invoke(args=["doctor"])


def lines_of(result: Any) -> dict[str, str]:
    lines = result.output.strip().splitlines()
    names = [line.split(":", 1)[0].split(maxsplit=1)[1] for line in lines]
    assert names == ORDER, result.output
    return dict(zip(names, lines, strict=True))


def test_a_working_single_server_passes_with_warnings_to_act_on(migrated, issuer):
    result = run_doctor(migrated)
    lines = lines_of(result)
    assert result.exit_code == 0, result.output
    for name in ("database", "secrets", "storage", "keys"):
        assert lines[name].startswith("ok"), lines[name]
    assert "none recorded yet" in lines["secrets"]
    with migrated.app_context():  # the doctor compared, it recorded nothing
        assert shared_secrets.check_and_record(shared_secrets.app_fingerprints()).recorded
    assert lines["rate limits"].startswith("WARNING") and "Redis" in lines["rate limits"]
    assert lines["mail"].startswith("WARNING") and "CREDFOLIO_SMTP_HOST" in lines["mail"]
    assert lines["public URL"].startswith("WARNING") and "not HTTPS" in lines["public URL"]


def test_what_does_not_answer_fails_and_says_what(migrated, issuer):
    result = run_doctor(
        migrated,
        ratelimit_storage_url="redis://127.0.0.1:1/0",  # nothing listens on port 1
        smtp_host="127.0.0.1",
        smtp_port=1,
    )
    lines = lines_of(result)
    assert result.exit_code == 1
    assert lines["rate limits"].startswith("FAILED") and "does not answer" in lines["rate limits"]
    assert lines["mail"].startswith("FAILED") and "127.0.0.1:1" in lines["mail"]


def test_no_signing_key_and_secrets_of_another_server_fail(migrated):
    with migrated.app_context():
        others = shared_secrets.app_fingerprints()
        others["session"] = shared_secrets.session_fingerprint("the other servers' secret")
        shared_secrets.check_and_record(others)
    result = run_doctor(migrated)
    lines = lines_of(result)
    assert result.exit_code == 1
    assert lines["secrets"].startswith("FAILED") and "CREDFOLIO_SECRET_KEY" in lines["secrets"]
    assert lines["keys"].startswith("FAILED") and "keys create" in lines["keys"]


def test_a_shared_redis_answers(migrated, issuer):
    result = run_doctor(migrated, ratelimit_storage_url="redis://127.0.0.1:6379/15")
    assert lines_of(result)["rate limits"].startswith("ok")
