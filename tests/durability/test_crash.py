"""Workers killed with SIGKILL in the middle of their work: after restart nothing is
half-written and nothing is lost.

"In the middle" is made deterministic without any hook in the code: the test's own connection
holds ``LOCK TABLE credential_events IN ACCESS EXCLUSIVE MODE``.  Issuing and revoking write
that table last (after the status bitmap, the signed list and the credential row), so the
worker's transaction stops there with its other writes done; the test sees it waiting in
``pg_stat_activity``, kills the worker process, then releases the lock.
"""

from __future__ import annotations

import os
import signal
import threading
import traceback
from http.client import HTTPException
from typing import Any

import pytest
from sqlalchemy import func, select

from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.issuing.models import StatusListRow
from tests.durability.conftest import (
    ADMIN_EMAIL,
    AdminSession,
    ApiClient,
    Http,
    Reply,
    Server,
    alive,
    check_invariants,
    public_id_of,
    verify_reply,
    wait_until,
)

LAST_WRITE = "INSERT INTO credential_events"
#: Why the two worker-kill tests skip on SQLite.
SQLITE_HAS_NO_MIDDLE = (
    "needs PostgreSQL: on SQLite a unit of work takes the write lock first (BEGIN IMMEDIATE), "
    "so a test cannot hold a worker between two of its writes without a hook in the code"
)


def lists_state() -> dict[str, Any]:
    """Every status list as stored (allocation bitmap, status bits, count, signed list), and
    the audit log's length (its event is written in the same transaction)."""
    db.session.rollback()
    db.session.expire_all()
    state: dict[str, Any] = {
        row.public_id: (bytes(row.allocated), bytes(row.bits), row.allocated_count, row.credential)
        for row in db.session.scalars(select(StatusListRow))
    }
    state["audit events"] = db.session.scalar(select(func.count()).select_from(AuditEvent))
    return state


def kill_in_the_middle(
    server: Server, postgres: Any, send: Any
) -> tuple[list[Reply | BaseException], int]:
    """Send a request with ``send()`` while the last table it writes is locked; SIGKILL the
    worker once its transaction waits for that lock; release the lock; wait until the
    orphaned database backend has ended.  Returns what the client got and the killed pid."""
    holder = postgres.connect()
    holder.execute("LOCK TABLE credential_events IN ACCESS EXCLUSIVE MODE")
    answers: list[Reply | BaseException] = []

    def request() -> None:
        try:
            answers.append(send())
        except BaseException as exc:  # the connection dies with the worker
            answers.append(exc)

    client = threading.Thread(target=request, daemon=True)
    client.start()
    backend = postgres.wait_for_lock_wait(server.application_name, LAST_WRITE)
    (worker,) = server.worker_pids()
    os.kill(worker, signal.SIGKILL)
    wait_until("the killed worker to be gone", lambda: not alive(worker))
    holder.rollback()  # the backend takes the lock, finds its client gone and rolls back
    holder.close()
    wait_until("the killed worker's backend to end", lambda: not postgres.backend_alive(backend))
    client.join(30)
    # The master starts a new worker: the service is back by itself.
    wait_until(
        "gunicorn to replace the worker",
        lambda: (pids := server.worker_pids()) and worker not in pids,
    )
    return answers, worker


@pytest.mark.postgres(reason=SQLITE_HAS_NO_MIDDLE)
def test_a_worker_killed_while_issuing_leaves_nothing_and_the_retry_succeeds(
    postgres, world, gunicorn, app
):
    server = gunicorn.start(workers=1)
    api = ApiClient(server.base_url, world.client_id, world.client_secret)
    admin = AdminSession(server.base_url, ADMIN_EMAIL, world.admin_password)
    kept, revoked = api.issue(), api.issue()
    assert admin.revoke(public_id_of(revoked)) == 303  # acknowledged before the kill
    before = check_invariants(app, server.base_url)
    lists_before = lists_state()

    answers, _ = kill_in_the_middle(server, postgres, api.issue_request)

    assert len(answers) == 1 and isinstance(answers[0], OSError), answers  # no answer at all
    # Nothing of the killed attempt: no credential, no position taken, no event, same lists.
    after = check_invariants(app, server.base_url)
    assert set(after.credentials) == set(before.credentials)
    assert after.events == before.events
    assert lists_state() == lists_before
    # Nothing lost: the revocation acknowledged before the kill is still there.
    assert after.revoked == {public_id_of(revoked)}

    retried = api.issue()  # the same client, its token still valid, on the new worker
    final = check_invariants(app, server.base_url)
    new = final.credentials[public_id_of(retried)]
    earlier = {(r.revocation_list_id, r.revocation_index) for r in before.credentials.values()} | {
        (r.suspension_list_id, r.suspension_index) for r in before.credentials.values()
    }
    assert (new.revocation_list_id, new.revocation_index) not in earlier
    assert (new.suspension_list_id, new.suspension_index) not in earlier
    http = Http(server.base_url)
    assert verify_reply(http, retried) == (200, set())
    assert verify_reply(http, kept) == (200, set())
    assert verify_reply(http, revoked) == (422, {"revocation"})


@pytest.mark.postgres(reason=SQLITE_HAS_NO_MIDDLE)
def test_a_worker_killed_while_revoking_leaves_it_unrevoked_and_the_retry_revokes_it(
    postgres, world, gunicorn, app
):
    server = gunicorn.start(workers=1)
    api = ApiClient(server.base_url, world.client_id, world.client_secret)
    admin = AdminSession(server.base_url, ADMIN_EMAIL, world.admin_password)
    target, earlier = api.issue(), api.issue()
    assert admin.revoke(public_id_of(earlier)) == 303  # acknowledged before the kill
    lists_before = lists_state()
    http = Http(server.base_url)
    published_before = {
        list_id: http.get(f"/status/{list_id}").body
        for list_id in lists_before
        if list_id != "audit events"
    }

    answers, _ = kill_in_the_middle(
        server, postgres, lambda: admin.revoke_request(public_id_of(target))
    )

    assert len(answers) == 1 and isinstance(answers[0], OSError), answers
    # Not revoked at all: no bit, the list neither changed nor re-signed, no record, no event.
    after = check_invariants(app, server.base_url)
    assert after.revoked == {public_id_of(earlier)}
    assert after.events[(public_id_of(target), "revoked")] == 0
    assert after.credentials[public_id_of(target)].revocation_reason is None
    assert lists_state() == lists_before
    assert {lid: http.get(f"/status/{lid}").body for lid in published_before} == published_before
    assert verify_reply(http, target) == (200, set())

    # Retried (the same signed-in session and form), it is revoked completely, once.
    assert admin.revoke(public_id_of(target)) == 303
    final = check_invariants(app, server.base_url)
    assert final.revoked == {public_id_of(target), public_id_of(earlier)}
    assert final.events[(public_id_of(target), "revoked")] == 1
    assert verify_reply(http, target) == (422, {"revocation"})
    assert verify_reply(http, earlier) == (422, {"revocation"})


CLIENTS = 3
REVOKE_EVERY = 3  # each client revokes every third credential it was given


def test_the_whole_server_killed_under_load_restarts_with_everything_acknowledged(
    world, gunicorn, app, database_url, request
):
    """Three clients issue and revoke through two workers; the master and its workers are
    SIGKILLed together in the middle of it, and a new server starts on the same database.
    Everything a client was told had succeeded is there, nothing is half-written, and the new
    server issues and revokes again.  On PostgreSQL the kill is timed by the lock on
    ``credential_events``, so both workers are inside a transaction when they die; on SQLite it
    lands wherever the load is."""
    server = gunicorn.start(workers=2)
    lock = threading.Lock()
    killed = threading.Event()
    issued: list[dict[str, Any]] = []  # acknowledged with 201
    revoked: set[str] = set()  # acknowledged with 303
    asked = {"issue": 0, "revoke": set()}
    problems: list[str] = []

    def client() -> None:
        mine = 0
        try:
            api = ApiClient(server.base_url, world.client_id, world.client_secret)
            admin = AdminSession(server.base_url, ADMIN_EMAIL, world.admin_password)
            while not killed.is_set():
                with lock:
                    asked["issue"] += 1
                credential = api.issue()
                with lock:
                    issued.append(credential)
                mine += 1
                if mine % REVOKE_EVERY == 0:
                    public_id = public_id_of(credential)
                    with lock:
                        asked["revoke"].add(public_id)
                    assert admin.revoke(public_id) == 303
                    with lock:
                        revoked.add(public_id)
        except (OSError, HTTPException):
            # After the kill: no connection, or an answer cut off half-way (IncompleteRead).
            if not killed.is_set():
                problems.append(traceback.format_exc())
        except BaseException:
            problems.append(traceback.format_exc())

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    wait_until(
        "some credentials issued and revoked",
        lambda: problems or (len(issued) >= 3 * CLIENTS and len(revoked) >= 2),
        timeout=120,
    )
    assert not problems, "\n".join(problems)
    holder = None
    if database_url.startswith("postgresql"):
        postgres = request.getfixturevalue("postgres")
        holder = postgres.connect()
        holder.execute("LOCK TABLE credential_events IN ACCESS EXCLUSIVE MODE")

        def both_workers_inside() -> bool:
            waiting = postgres.waiting_backends(server.application_name)
            return len(waiting) == 2 and any(q.startswith(LAST_WRITE) for _, q in waiting)

        wait_until("both workers to be inside a transaction", both_workers_inside)
    killed.set()
    server.kill()
    if holder is not None:
        holder.rollback()
        wait_until(
            "the dead server's backends to end",
            lambda: (
                not postgres.waiting_backends(server.application_name)
                and not postgres.backends(server.application_name)
            ),
        )
    for thread in threads:
        thread.join(60)
    assert not problems, "\n".join(problems)

    restarted = gunicorn.start(workers=1)
    snapshot = check_invariants(app, restarted.base_url)
    acknowledged = {public_id_of(c) for c in issued}
    assert acknowledged <= set(snapshot.credentials)
    assert revoked <= snapshot.revoked <= asked["revoke"]
    assert len(snapshot.credentials) <= asked["issue"]
    if holder is not None:  # both workers died before committing: exactly what was answered
        assert set(snapshot.credentials) == acknowledged
        assert snapshot.revoked == revoked
    http = Http(restarted.base_url)
    for credential in issued:
        expected = (
            (422, {"revocation"})
            if public_id_of(credential) in snapshot.revoked
            else (
                200,
                set(),
            )
        )
        assert verify_reply(http, credential) == expected, credential["id"]
    # The new server works: it issues (on positions not given before) and revokes.
    again = ApiClient(restarted.base_url, world.client_id, world.client_secret).issue()
    admin = AdminSession(restarted.base_url, ADMIN_EMAIL, world.admin_password)
    assert admin.revoke(public_id_of(again)) == 303
    final = check_invariants(app, restarted.base_url)
    assert set(final.credentials) == set(snapshot.credentials) | {public_id_of(again)}
    assert final.revoked == snapshot.revoked | {public_id_of(again)}
