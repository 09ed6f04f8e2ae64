"""Several processes at once on one database: gunicorn workers issuing, revoking and verifying
through the VC-API and the administration pages, and app processes endorsing one submission.
No status-list position is given twice, no revocation is lost, no endorsement issues twice."""

from __future__ import annotations

import multiprocessing
import queue
import random
import secrets
import threading
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from portfolio.assessment.models import Mastery, Submission
from portfolio.core.db import db
from portfolio.issuing.models import IssuedCredential
from tests.conftest import TEST_KEK
from tests.durability.conftest import (
    ADMIN_EMAIL,
    AdminSession,
    ApiClient,
    Http,
    Reply,
    check_invariants,
    public_id_of,
    verify_reply,
    wait_until,
)

ISSUERS, ISSUES_EACH, REVOKERS, VERIFIERS = 4, 6, 2, 2
REVOKE_SHARE = 0.4
JOIN_TIMEOUT = 180.0


def run_threads(targets: list[Callable[[], None]], problems: list[str]) -> list[threading.Thread]:
    """Start one thread per target; an exception in one is recorded in ``problems``."""

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException:
            problems.append(traceback.format_exc())

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    return threads


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a client thread is still running"


def test_issuing_revoking_and_verifying_at_once_lose_nothing(world, gunicorn, app):
    """Four workers; four clients issue while two administrators revoke a random share of what
    was issued and two verifiers check everything as it comes.  Afterwards every position is
    unique, the bitmaps agree with the rows, and exactly the acknowledged revocations are set
    in the signed lists."""
    server = gunicorn.start(workers=4)
    seed = secrets.randbits(32)
    rng = random.Random(seed)  # noqa: S311  (which credentials to revoke; printed on failure)
    lock = threading.Lock()
    start = threading.Barrier(ISSUERS + REVOKERS + VERIFIERS, timeout=120)
    to_revoke: queue.Queue[dict[str, Any] | None] = queue.Queue()
    to_verify: queue.Queue[dict[str, Any] | None] = queue.Queue()
    issued: list[dict[str, Any]] = []
    requested: set[str] = set()  # revocations asked for (before the request is sent)
    acknowledged: set[str] = set()  # revocations answered with success
    problems: list[str] = []

    def issuing() -> None:
        api = ApiClient(server.base_url, world.client_id, world.client_secret)
        start.wait()
        for _ in range(ISSUES_EACH):
            credential = api.issue()
            with lock:
                issued.append(credential)
            to_revoke.put(credential)
            to_verify.put(credential)

    def revoking() -> None:
        admin = AdminSession(server.base_url, ADMIN_EMAIL, world.admin_password)
        start.wait()
        while (credential := to_revoke.get()) is not None:
            with lock:
                chosen = rng.random() < REVOKE_SHARE
            if not chosen:
                continue
            public_id = public_id_of(credential)
            with lock:
                requested.add(public_id)
            status = admin.revoke(public_id)
            assert status == 303, f"revoking {public_id} (asked once) answered {status}"
            with lock:
                acknowledged.add(public_id)

    def verifying() -> None:
        http = Http(server.base_url)
        start.wait()
        while (credential := to_verify.get()) is not None:
            status, failing = verify_reply(http, credential)
            with lock:
                may_be_revoked = public_id_of(credential) in requested
            if not (status == 200 and not failing) and not (
                may_be_revoked and status == 422 and failing == {"revocation"}
            ):
                problems.append(f"{credential['id']}: {status}, failing {sorted(failing)}")

    issuers = run_threads([issuing] * ISSUERS, problems)
    others = run_threads([revoking] * REVOKERS + [verifying] * VERIFIERS, problems)
    join(issuers)
    for _ in range(REVOKERS):
        to_revoke.put(None)
    for _ in range(VERIFIERS):
        to_verify.put(None)
    join(others)
    assert not problems, f"seed {seed}:\n" + "\n".join(problems) + "\n" + server.log()

    snapshot = check_invariants(app, server.base_url)
    assert len(issued) == ISSUERS * ISSUES_EACH
    assert set(snapshot.credentials) == {public_id_of(c) for c in issued}
    assert snapshot.revoked == acknowledged, f"seed {seed}"
    # Each credential as its holder has it: the revoked fail revocation only, the rest verify.
    http = Http(server.base_url)
    for credential in issued:
        status, failing = verify_reply(http, credential)
        if public_id_of(credential) in acknowledged:
            assert (status, failing) == (422, {"revocation"}), credential["id"]
        else:
            assert (status, failing) == (200, set()), credential["id"]


@pytest.mark.postgres(
    reason="needs PostgreSQL: SQLite's write lock already runs the two revocations one after "
    "the other, and it has no row lock to hold both requests inside their transactions"
)
def test_two_administrators_revoking_one_credential_at_once_revoke_it_once(
    postgres, world, gunicorn, app
):
    """Both requests are held inside their transactions (the test locks the credential's
    revocation list row) until both workers are waiting; then they go: one revokes (303), the
    other is told it is already revoked (409) — one event, the first reason kept."""
    server = gunicorn.start(workers=2)
    credential = ApiClient(server.base_url, world.client_id, world.client_secret).issue()
    public_id = public_id_of(credential)
    admins = [AdminSession(server.base_url, ADMIN_EMAIL, world.admin_password) for _ in range(2)]
    list_id = credential["credentialStatus"][0]["statusListCredential"].rsplit("/", 1)[1]
    holder = postgres.connect()
    holder.execute("SELECT id FROM status_lists WHERE public_id = %s FOR UPDATE", (list_id,))
    answers: list[int] = []
    problems: list[str] = []

    def revoke(admin: AdminSession, reason: str) -> Callable[[], None]:
        return lambda: answers.append(admin.revoke_request(public_id, reason).status)

    threads = run_threads(
        [revoke(admins[0], "First reason"), revoke(admins[1], "Second reason")], problems
    )
    wait_until(
        "both revocations to wait inside their transactions",
        lambda: len(postgres.waiting_backends(server.application_name)) == 2,
    )
    holder.rollback()
    join(threads)
    assert not problems, "\n".join(problems)
    assert sorted(answers) == [303, 409], server.log()
    snapshot = check_invariants(app, server.base_url)
    assert snapshot.revoked == {public_id}
    assert snapshot.events[(public_id, "revoked")] == 1
    reason = snapshot.credentials[public_id].revocation_reason
    assert reason in ("First reason", "Second reason")


@pytest.mark.postgres(
    reason="needs PostgreSQL: the test holds both requests at a status list's row lock"
)
def test_one_idempotency_key_sent_to_two_workers_at_once_issues_one_credential(
    postgres, world, gunicorn, app
):
    """A client retries on another worker while the first request is still working: both
    requests are held at the open revocation list's row lock until both wait, then released.
    One is issued (201), the other answers with that same credential (200, replayed)."""
    server = gunicorn.start(workers=2)
    clients = [ApiClient(server.base_url, world.client_id, world.client_secret) for _ in range(2)]
    first = clients[0].issue()  # opens the lists
    list_id = first["credentialStatus"][0]["statusListCredential"].rsplit("/", 1)[1]
    holder = postgres.connect()
    holder.execute("SELECT id FROM status_lists WHERE public_id = %s FOR UPDATE", (list_id,))
    replies: list[Reply] = []
    problems: list[str] = []

    def send(api: ApiClient) -> Callable[[], None]:
        return lambda: replies.append(api.issue_request(headers={"Idempotency-Key": "retry-1"}))

    threads = run_threads([send(clients[0]), send(clients[1])], problems)
    wait_until(
        "both requests to wait inside their transactions",
        lambda: len(postgres.waiting_backends(server.application_name)) == 2,
    )
    holder.rollback()
    join(threads)
    assert not problems, "\n".join(problems)
    assert sorted(r.status for r in replies) == [200, 201], [r.text for r in replies]
    replayed = next(r for r in replies if r.status == 200)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replies[0].body == replies[1].body  # the very same signed credential
    snapshot = check_invariants(app, server.base_url)
    assert set(snapshot.credentials) == {
        public_id_of(first),
        public_id_of(replies[0].json()["verifiableCredential"]),
    }


# -- endorsing one submission from several processes -----------------------------------------------

#: Three processes: two assessors, and the first one again (a double submission reaching two
#: app servers).
ENDORSING = ("assessor", "second_assessor", "assessor")


def test_several_processes_endorsing_one_submission_issue_one_credential(
    app, issuer, database_url, tmp_path, request
):
    """Each process builds its own app on the shared database and endorses the same submission
    at the same moment.  On PostgreSQL the test holds the submission's row lock until every
    process waits for it, so all of them are inside ``assess`` at once; on SQLite they start
    together from a barrier (its write lock serializes them anyway)."""
    from portfolio.assessment import credentials as issuing
    from tests.portfolio.assessment.test_assessment import PROFICIENT, submitted
    from tests.portfolio.school import make_school

    school = make_school(issuer)
    row = submitted(school)
    for role in set(ENDORSING):  # their signing identities exist before the race
        issuing.endorser_issuer(getattr(school, role))
    db.session.commit()
    application_name = f"credfolio-endorse-{secrets.token_hex(4)}"
    child_url = database_url
    holder = None
    if database_url.startswith("postgresql"):
        postgres = request.getfixturevalue("postgres")
        child_url += ("&" if "?" in database_url else "?") + f"application_name={application_name}"
        holder = postgres.connect()
        holder.execute("SELECT id FROM submissions WHERE id = %s FOR UPDATE", (row.id,))

    ctx = multiprocessing.get_context("spawn")  # real, fresh processes, as under gunicorn
    start = ctx.Barrier(len(ENDORSING))
    results = ctx.Queue()
    from tests.durability._endorse_worker import endorse

    processes = []
    for number, role in enumerate(ENDORSING):
        config = {
            "INSTANCE_PATH": str(tmp_path / f"endorser-{number}"),
            "SQLALCHEMY_DATABASE_URI": child_url,
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_SECRET_KEY": "durability-endorse",
            "CREDFOLIO_PUBLIC_URL": app.config["CREDFOLIO_PUBLIC_URL"],
        }
        process = ctx.Process(
            target=endorse,
            args=(config, row.id, getattr(school, role).id, PROFICIENT, start, results),
        )
        process.start()
        processes.append(process)
    try:
        if holder is not None:
            wait_until(
                "every process to wait for the submission's lock",
                lambda: len(postgres.waiting_backends(application_name)) == len(ENDORSING),
                timeout=120,
            )
            holder.rollback()
        outcomes = [results.get(timeout=JOIN_TIMEOUT) for _ in processes]
    finally:
        if holder is not None:
            holder.rollback()
        for process in processes:
            process.join(JOIN_TIMEOUT)
            if process.is_alive():
                process.kill()
    assert [p.exitcode for p in processes] == [0] * len(ENDORSING)
    errors = [o[1] for o in outcomes if o[0] == "error"]
    assert not errors, "\n".join(errors)
    issued = [o for o in outcomes if o[0] == "issued"]
    refused = [o for o in outcomes if o[0] == "refused"]
    assert len(issued) == 1 and len(refused) == len(ENDORSING) - 1, outcomes
    assert all(status == 409 for _, status, _ in refused), outcomes

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Mastery)) == 1
    credentials = db.session.scalars(select(IssuedCredential)).all()
    assert [c.public_id for c in credentials] == [issued[0][1]]
    mastery = db.session.scalars(select(Mastery)).one()
    assert mastery.credential_id == credentials[0].id
    assert db.session.get(Submission, row.id).state == "endorsed"
    check_invariants(app, None)
