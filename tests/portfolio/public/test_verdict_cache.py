"""``GET /c/<id>`` verifies once and reuses the verdict — and never shows a stale one.

Each app below is one worker with its own cache; they share the database, as gunicorn workers
do.  A change made through one worker (revoke, suspend, unsuspend, a key change, a change of the
trust list) is seen by the next view in the other at once: the verdict generation it bumped in
its own transaction makes every cached verdict from before it a miss.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import _test_config, load_json
from tests.portfolio.public.test_public_pages import issue


@pytest.fixture
def other_worker(app: Any, tmp_path: Any) -> Iterator[Any]:
    """A second app on the same database: another worker with a cache of its own."""
    from portfolio.core.db import db
    from wsgi import create_app

    shutil.copytree(tmp_path / "instance", tmp_path / "instance-2", dirs_exist_ok=True)
    worker = create_app(
        _test_config(tmp_path / "instance-2", app.config["SQLALCHEMY_DATABASE_URI"])
    )
    yield worker
    with worker.app_context():
        db.engine.dispose()


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def check_status(worker: Any, public_id: str, check: str) -> str:
    """What the worker's credential page says for one check (its status words)."""
    seen = text_of(worker.test_client().get(f"/c/{public_id}").text)
    found = re.search(rf"Technical detail \({re.escape(check)}\)", seen)
    assert found, f"no {check} check on the page"
    line = seen[: found.start()].rsplit(" : ", 1)[1]
    return line.split(" . ", 1)[0]


def cache_counts(worker: Any) -> tuple[int, int]:
    from portfolio.public.verdict_cache import EXTENSION

    cache = worker.extensions[EXTENSION]
    return cache.hits, cache.misses


def test_a_second_view_reuses_the_verdict(app: Any, issuer: Any, client: Any) -> None:
    row = issue(issuer=issuer)
    first = client.get(f"/c/{row.public_id}").text
    assert cache_counts(app) == (0, 1)
    second = client.get(f"/c/{row.public_id}").text
    assert cache_counts(app) == (1, 1)
    assert first == second


def _revoke(row: Any, _issuer: Any, _app: Any) -> None:
    from portfolio.issuing import service as services

    services.set_status(row, "revoke", reason="Plagiarism found")


def _suspend(row: Any, _issuer: Any, _app: Any) -> None:
    from portfolio.issuing import service as services

    services.set_status(row, "suspend", reason="Under review")


def _revoke_key(_row: Any, issuer: Any, app: Any) -> None:
    key_store = app.extensions["credfolio"].key_store
    key_store.revoke(key_store.active(issuer.did).key_id, "Leaked")


CHANGES: dict[str, tuple[Callable[[Any, Any, Any], None], str, str]] = {
    "revocation": (_revoke, "revocation", "✘ Failed"),
    "suspension": (_suspend, "suspension", "✘ Failed"),
    "key revocation": (_revoke_key, "key-status", "✘ Failed"),
}


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_a_change_in_one_worker_is_seen_by_the_next_view_in_every_other(
    app: Any, issuer: Any, other_worker: Any, change: str
) -> None:
    make, check, after = CHANGES[change]
    row = issue(issuer=issuer)
    for _ in range(2):  # cached in the other worker
        assert check_status(other_worker, row.public_id, check) == "✔ Passed"
    assert cache_counts(other_worker) == (1, 1)
    make(row, issuer, app)  # through this worker
    assert check_status(other_worker, row.public_id, check) == after


def test_lifting_a_suspension_is_seen_at_once_too(app: Any, issuer: Any, other_worker: Any) -> None:
    from portfolio.issuing import service as services

    row = issue(issuer=issuer)
    services.set_status(row, "suspend", reason="Under review")
    assert check_status(other_worker, row.public_id, "suspension") == "✘ Failed"
    services.set_status(row, "unsuspend", reason="")
    assert check_status(other_worker, row.public_id, "suspension") == "✔ Passed"


def test_a_change_of_the_trust_list_makes_every_cached_verdict_stale(
    app: Any, issuer: Any, other_worker: Any
) -> None:
    from portfolio.accounts.models import Role, User
    from portfolio.core.db import db
    from portfolio.issuing import trust

    row = issue(issuer=issuer)
    check_status(other_worker, row.public_id, "issuer-trust")
    check_status(other_worker, row.public_id, "issuer-trust")
    assert cache_counts(other_worker) == (1, 1)
    admin = User(
        email="admin@school.test",
        password_hash="x",
        display_name="Admin",
        role=Role.ADMIN,
        issuer_id=issuer.id,
    )
    db.session.add(admin)
    db.session.commit()
    partner = load_json("trust/forged-demo-school.json")["issuer"]["id"]
    trust.add(did=partner, name="Partner College", url=None, actor=admin)
    check_status(other_worker, row.public_id, "issuer-trust")
    assert cache_counts(other_worker) == (1, 2)  # computed afresh


def test_a_verdict_is_kept_no_later_than_the_next_moment_named_in_the_credential() -> None:
    from portfolio.public.verdict_cache import MAX_AGE, valid_until

    now = datetime(2026, 1, 1, tzinfo=UTC)
    soon = now + timedelta(minutes=3)
    document = {
        "validFrom": "2025-01-01T00:00:00Z",  # past: no turning point
        "endorsement": [{"validUntil": soon.isoformat().replace("+00:00", "Z")}],
        "proof": [{"expires": "2026-01-01T00:05:00"}],  # no offset: UTC
    }
    assert valid_until(document, now=now) == soon
    assert valid_until({"validUntil": "2099-01-01T00:00:00Z"}, now=now) == now + MAX_AGE
    assert valid_until({"validFrom": "2026-01-01T00:01:00Z"}, now=now) == now + timedelta(minutes=1)
