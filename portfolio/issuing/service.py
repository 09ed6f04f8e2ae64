"""The issuing service: issuing (:func:`issue`), status lists and revocation (:func:`set_status`)
and the service's verifier (:func:`service_verifier`) — database, keys and signing coordinated
inside one transaction.  Refusals are :class:`IssueError` (or ``MalformedInputError``)."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from credentials import schema, schema_conformance, vc_rules
from credentials.budget import WorkBudget
from credentials.errors import CannotDecideError, CredentialError, MalformedInputError
from credentials.jsonld import DocumentLoader, canonicalize
from credentials.proof import Eddsa2022Suite, parse_datetime, xsd_datetime
from credentials.status import StatusList, build_status_list_credential, status_entry
from credentials.verify import (
    OfflineKeyResolver,
    ResolvedMethod,
    Verifier,
    issuer_id,
    parse_credential,
    types_of,
)
from issuer_keys.did import did_web_document
from issuer_keys.store import KeyRecord, KeyStore
from portfolio.accounts.actors import record_as
from portfolio.accounts.models import Issuer, User
from portfolio.accounts.notifications import Mail, send_mail
from portfolio.core import metrics
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, InvalidInputError, UnavailableError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.links import public_url
from portfolio.core.models import new_public_id
from portfolio.core.numbers import MAX_ID, whole_number
from portfolio.issuing import (
    data_models,
    gauges,  # noqa: F401  (registers the credentials-by-state gauge)
    status_options,
    verdict_generation,
)
from portfolio.issuing.models import (
    AchievementRow,
    CredentialEvent,
    Endorser,
    IssuedCredential,
    StatusListRow,
)
from portfolio.issuing.status_changes import change_status_in_transaction
from portfolio.issuing.trust import service_trust_policy

log = logging.getLogger(__name__)

STATUS_LIST_SIZE = 131_072  # Bitstring Status List §6.1: at least 16 KB for group privacy
MAX_ISSUE_ATTEMPTS = 5


class IssueError(CredentialError, InvalidInputError):
    """A well-formed request that we refuse to issue, or a change we refuse to make.

    Both a :class:`CredentialError` — the VC-API answers it like every credential error, 422
    ``{"error", "detail"}`` — and a service refusal (:class:`InvalidInputError`) for the pages.
    """

    code = "CANNOT_ISSUE"

    def __init__(self, message: str | LazyText, *, code: str | None = None) -> None:
        # CredfolioError makes ``english``; CredentialError would keep the lazy message as is.
        super().__init__(message, code=code)
        self.message = str(message)  # the reader's language, for the pages ...

    def to_dict(self) -> dict[str, Any]:
        """... and English for the JSON API, whatever the request's language."""
        return {"error": self.code, "detail": self.english}


class DuplicateCredentialId(ConflictError):
    """A credential with the ``id`` the request names was issued already (409: ids are
    unique, and retrying cannot help)."""

    code = "DUPLICATE_CREDENTIAL_ID"


class StatusConflictError(IssueError, ConflictError):
    """A status change that the credential's current state does not allow (revocation is
    final; already suspended; not suspended; no status entry for it)."""


@dataclass(frozen=True)
class ServiceConfig:
    """What the service functions need from the app, gathered once per call."""

    loader: DocumentLoader
    key_store: KeyStore
    public_url: str

    @classmethod
    def current(cls) -> ServiceConfig:
        components = current_app.extensions["credfolio"]
        return cls(
            loader=components.loader,
            key_store=components.key_store,
            public_url=public_url(),
        )

    def public_link(self, path: str) -> str:
        """``path`` (``/...``) under the configured public URL: the one place that builds the
        service's public addresses — signed identifiers (credential and status-list ids) and
        links that must name them whatever host a request came through (or with no request)."""
        return f"{self.public_url}{path}"

    def credential_url(self, public_id: str) -> str:
        """The credential's ``id``: its public page."""
        return self.public_link(f"/c/{public_id}")

    def status_list_url(self, public_id: str) -> str:
        """A status list credential's ``id``, where it is published."""
        return self.public_link(f"/status/{public_id}")


# -- issuers and signing ---------------------------------------------------------------------


def did_document_for(did: str, key_store: KeyStore) -> dict[str, Any]:
    """The did:web document of one of our issuers: active and retired keys, and the web site
    of its profile."""
    website = db.session.scalar(select(Issuer.url).where(Issuer.did == did))
    return did_web_document(did, key_store.list(did), website=website)


def sign_as(did: str, document: Mapping[str, Any], *, config: ServiceConfig) -> dict[str, Any]:
    """``document`` with a new Data Integrity proof (eddsa-rdfc-2022) by the active key of
    ``did``.  Raises ``KeyNotFoundError`` when ``did`` has no active key in the key store."""
    key = config.key_store.signing_key(did)
    suite = Eddsa2022Suite(loader=config.loader)
    method = key.verification_method_id(did)
    return suite.create_proof(document, key=key, verification_method=method)


# -- status lists ----------------------------------------------------------------------------


def _publish(config: ServiceConfig, row: StatusListRow) -> None:
    """(Re-)sign the list's BitstringStatusListCredential from its bits."""
    bits = StatusList(row.bits)
    unsigned = build_status_list_credential(
        list_id=config.status_list_url(row.public_id),
        issuer=row.issuer.did,
        purpose=row.purpose,
        status_list=bits,
        valid_from=xsd_datetime(row.created_at),
    )
    text = json.dumps(sign_as(row.issuer.did, unsigned, config=config), separators=(",", ":"))
    row.credential = text
    row.etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    row.updated_at = datetime.now(UTC)


def new_status_list(config: ServiceConfig, issuer: Issuer, purpose: str) -> StatusListRow:
    """A new, empty, signed status list of ``issuer`` for ``purpose``, added to the session and
    flushed (in the caller's transaction)."""
    size = STATUS_LIST_SIZE
    row = StatusListRow(
        public_id=new_public_id(),
        issuer=issuer,
        purpose=purpose,
        size=size,
        bits=bytes(size // 8),
        allocated=bytes(size // 8),
        allocated_count=0,
        full=False,
        created_at=datetime.now(UTC),
    )
    _publish(config, row)
    db.session.add(row)
    db.session.flush()
    return row


def resign_status_list(row: StatusListRow, *, config: ServiceConfig | None = None) -> None:
    """Sign the list again with its issuer's active key, in the caller's transaction (after a
    key compromise: a list signed by a revoked key no longer verifies, so no status could be
    read from it)."""
    _publish(config or ServiceConfig.current(), row)


def _allocate(config: ServiceConfig, issuer: Issuer, purpose: str) -> tuple[StatusListRow, int]:
    """A random free position in an open list of ``issuer`` for ``purpose``.

    Positions are random inside the list (issue order is not revealed) and never reused: the
    list row is locked (``FOR UPDATE`` on PostgreSQL) while its allocation bitmap is updated,
    and a unique constraint on the credential table is the last line of defence.
    """
    row = db.session.scalar(
        select(StatusListRow)
        .where(
            StatusListRow.issuer_id == issuer.id,
            StatusListRow.purpose == purpose,
            StatusListRow.full.is_(False),
        )
        .order_by(StatusListRow.id)
        .limit(1)
        .with_for_update()
    )
    if row is None:
        row = new_status_list(config, issuer, purpose)
    allocated = bytearray(row.allocated)
    index = _random_free_index(allocated, row.size)
    allocated[index // 8] |= 0x80 >> (index % 8)
    row.allocated = bytes(allocated)
    row.allocated_count += 1
    row.full = row.allocated_count >= row.size
    return row, index


def _random_free_index(allocated: bytearray, size: int) -> int:
    start = secrets.randbelow(size)
    byte_count = size // 8
    for step in range(byte_count + 1):
        position = (start // 8 + step) % byte_count
        value = allocated[position]
        if value == 0xFF:
            continue
        for bit in range(8):
            index = position * 8 + bit
            if step == 0 and index < start:
                continue
            if not value & (0x80 >> bit):
                return index
    raise IssueError("the status list is full")  # cannot happen: full lists are not selected


# -- issuing ---------------------------------------------------------------------------------


def check_request(
    credential: Any, issuer: Issuer, *, config: ServiceConfig | None = None
) -> dict[str, Any]:
    """Validate an unsigned credential sent for issuing; return a copy ready to complete.

    Raises :class:`MalformedInputError` naming the problem (missing context, type, subject,
    bad dates, a VC Data Model 2.0 rule broken — ``credentials.vc_rules``) and
    :class:`IssueError` for an issuer that is not ours or a proof sent along.  A VC 1.1
    credential (first context ``https://www.w3.org/2018/credentials/v1``) is accepted as given,
    except an Open Badge (see ``data_models``).
    """
    config = config or ServiceConfig.current()
    document = copy.deepcopy(parse_credential(credential))
    model = data_models.data_model_of(document)
    if "VerifiableCredential" not in types_of(document):
        raise MalformedInputError("type must include 'VerifiableCredential'", code="INVALID_TYPE")
    if not isinstance(document.get("credentialSubject"), dict | list) or not document.get(
        "credentialSubject"
    ):
        raise MalformedInputError("credentialSubject is required", code="MISSING_SUBJECT")
    if "proof" in document:
        raise IssueError("proof is added by the service; remove it from the request")
    issuer_value = document.get("issuer")
    if issuer_value is None:
        document["issuer"] = data_models.issuer_value(document, model, issuer.profile())
    elif issuer_id(document) != issuer.did:
        raise IssueError(
            f"the issuer {issuer_id(document)!r} is not an issuer of this service "
            f"(expected {issuer.did})",
            code="WRONG_ISSUER",
        )
    start, end = data_models.DATE_FIELDS[model]
    for field in (start, end):
        if field in document:
            parse_datetime(document[field], field=field)
    if (
        start in document
        and end in document
        and parse_datetime(document[end], field=end) <= parse_datetime(document[start], field=start)
    ):
        raise MalformedInputError(f"{end} must be after {start}", code="INVALID_DATETIME")
    vc_rules.check(document, resource=config.loader.published_bytes)
    data_models.check_client_status(document, config.status_list_url(""))
    data_models.with_proof_context(document, model)
    return document


def issue(
    credential: Any,
    *,
    issuer: Issuer,
    client_id: str | None = None,
    recipient_name: str | None = None,
    config: ServiceConfig | None = None,
    before_commit: Callable[[IssuedCredential], None] | None = None,
    add_status: bool = False,
    budget: WorkBudget | None = None,
) -> IssuedCredential:
    """Complete, sign and store a credential in one transaction; return its record.

    ``before_commit(row)`` runs inside that transaction, after the credential is flushed: the
    caller can store its own records with it (the API's idempotency key) — if it raises,
    nothing is stored.

    Adds ``id`` (the public page URL) when missing, ``validFrom`` (VC 1.1: ``issuanceDate``;
    now) when missing, and a revocation BitstringStatusListEntry (one object: what the 1EdTech
    schema allows), followed by a suspension entry when the issuer offers suspension
    (``status_options``) — unless the credential brings its own ``credentialStatus`` (then
    ours are added after it only with ``add_status``) or is a VC 1.1 credential (whose context
    cannot say BitstringStatusListEntry).  Retries on a concurrent allocation conflict.  Raises
    :class:`MalformedInputError` or :class:`IssueError`, :class:`DuplicateCredentialId` (409)
    when the ``id`` was issued already, and ``UnavailableError`` when conflicts go on; nothing
    is stored when it raises.
    """
    config = config or ServiceConfig.current()
    request = check_request(credential, issuer, config=config)
    if add_status and data_models.data_model_of(request) == data_models.VC_1_1:
        raise MalformedInputError(
            "a VC 1.1 credential cannot carry a BitstringStatusListEntry (the 2018 context does "
            "not define it): leave out options.credentialStatus",
            code="UNSUPPORTED_OPTION",
        )
    _refuse_issued_id(request)
    # The request's work budget (issue 14 §5): canonicalized once before the write transaction,
    # a hostile document is refused (400 WORK_BUDGET_EXCEEDED) without ever holding the write
    # lock; signing below then canonicalizes what it signs under a budget of its own.
    canonicalize(request, loader=config.loader, budget=budget or WorkBudget())
    for attempt in range(1, MAX_ISSUE_ATTEMPTS + 1):
        try:
            with unit_of_work(write=True):
                row = _issue_once(
                    config,
                    request,
                    issuer,
                    client_id=client_id,
                    recipient_name=recipient_name,
                    add_status=add_status,
                )
                if before_commit is not None:
                    before_commit(row)
            return row
        except IntegrityError as exc:  # a position or id taken concurrently: start again
            _refuse_issued_id(request)  # unless it was the id: that cannot change
            # The database's own message (SQL, values) goes to the log, never to the client.
            log.warning("issuing: conflict on attempt %d: %s", attempt, exc.orig)
    raise UnavailableError(
        "the service is issuing many credentials at once and could not allocate a status "
        "position; try again in a moment",
        code="ISSUING_BUSY",
    )


def _refuse_issued_id(request: Mapping[str, Any]) -> None:
    """Raise :class:`DuplicateCredentialId` when the request's ``id`` was issued already."""
    wanted = request.get("id")
    if isinstance(wanted, str) and db.session.scalar(
        select(IssuedCredential.id).where(IssuedCredential.credential_id == wanted)
    ):
        raise DuplicateCredentialId(f"a credential with the id {wanted} was issued already")


def issue_in_transaction(
    credential: Any,
    *,
    issuer: Issuer,
    public_id: str | None = None,
    recipient_name: str | None = None,
    recipient_user_id: int | None = None,
    actor: str = "service",
    config: ServiceConfig | None = None,
) -> IssuedCredential:
    """Like :func:`issue`, inside a write transaction the caller began and will commit.

    For callers that change their own records together with the credential (an endorsed
    submission and its mastery): either everything is committed or nothing.  ``public_id``
    fixes the page URL in advance, for documents that must name the credential's ``id`` before
    it is signed.  An :class:`IntegrityError` at flush means a concurrent conflict: the caller
    rolls back and starts again.
    """
    config = config or ServiceConfig.current()
    request = check_request(credential, issuer, config=config)
    return _issue_once(
        config,
        request,
        issuer,
        public_id=public_id,
        recipient_name=recipient_name,
        recipient_user_id=recipient_user_id,
        actor=actor,
    )


def _issue_once(
    config: ServiceConfig,
    request: dict[str, Any],
    issuer: Issuer,
    *,
    client_id: str | None = None,
    recipient_name: str | None = None,
    public_id: str | None = None,
    recipient_user_id: int | None = None,
    actor: str | None = None,
    add_status: bool = False,
) -> IssuedCredential:
    document = copy.deepcopy(request)
    public_id = public_id or new_public_id()
    model = data_models.data_model_of(document)
    document.setdefault("id", config.credential_url(public_id))
    document.setdefault(data_models.DATE_FIELDS[model][0], xsd_datetime(datetime.now(UTC)))
    client_status = document.get("credentialStatus")
    ours = (client_status is None or add_status) and model == data_models.VC_2_0
    row = IssuedCredential(
        public_id=public_id,
        issuer=issuer,
        client_id=client_id,
        recipient_user_id=recipient_user_id,
    )
    entries = []
    for purpose in status_options.purposes_for(issuer) if ours else ():
        status_list, index = _allocate(config, issuer, purpose)
        entries.append(status_entry(config.status_list_url(status_list.public_id), index, purpose))
        if purpose == "revocation":
            row.revocation_list, row.revocation_index = status_list, index
        else:
            row.suspension_list, row.suspension_index = status_list, index
    if client_status is not None and entries:  # the client's entries first, as given
        given = client_status if isinstance(client_status, list) else [client_status]
        document["credentialStatus"] = [*given, *entries]
    elif entries:
        document["credentialStatus"] = entries if len(entries) > 1 else entries[0]
    _check_schema(document, issuer)
    signed = sign_as(issuer.did, document, config=config)
    row.document = json.dumps(signed, ensure_ascii=False)
    row.credential_id = signed["id"]
    _describe(row, signed, recipient_name)
    db.session.add(row)
    _publish_achievement(issuer, signed)
    db.session.flush()
    actor = actor or (f"client:{client_id}" if client_id else "service")
    db.session.add(CredentialEvent(credential_id=row.id, action="issued", actor=actor))
    _audit("credential_issued", row, actor)
    metrics.credential_issued()  # counted when the transaction commits
    return row


def _check_schema(document: Mapping[str, Any], issuer: Issuer) -> None:
    """An OB 3.0 credential we sign matches the 1EdTech schema exactly as published; the one
    departure allowed is the status list of an issuer that offers suspension (its choice)."""
    kind = schema.schema_for(document)
    if kind is None:
        return
    verdict = schema_conformance.judge(document, kind)
    chosen = issuer.offers_suspension and verdict.permitted_by == (schema_conformance.STATUS_LIST,)
    if not verdict.matches and not chosen:
        raise IssueError(
            f"not a valid Open Badges credential: {verdict.summary()}",
            code="SCHEMA_VALIDATION_ERROR",
        )


def _audit(action: str, row: IssuedCredential, actor: str, reason: str | None = None) -> None:
    """The audit event of a credential change, in the change's own transaction.

    An assessor's endorsement is issued by their did:key issuer: the event belongs to the
    school they assess for, whose administrators read the log.
    """
    issuer_id: int | None = row.issuer_id
    endorser = db.session.scalar(select(Endorser).where(Endorser.issuer_id == row.issuer_id))
    if endorser is not None:
        assessor = db.session.get(User, endorser.user_id)
        issuer_id = assessor.issuer_id if assessor is not None else issuer_id
    detail: dict[str, Any] = {"achievement": row.achievement_name}
    if reason:
        detail["reason"] = reason
    record_as(
        action, actor, issuer_id=issuer_id, target=f"credential:{row.public_id}", detail=detail
    )


def _describe(row: IssuedCredential, signed: Mapping[str, Any], recipient_name: str | None) -> None:
    subject = signed.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    if isinstance(subject, dict):
        row.subject_id = subject.get("id")
        achievement = subject.get("achievement")
        if isinstance(achievement, dict):
            row.achievement_id = achievement.get("id")
            name = achievement.get("name")
            row.achievement_name = name if isinstance(name, str) else None
        name = subject.get("name")
        if recipient_name is None and isinstance(name, str):
            recipient_name = name
    row.recipient_name = recipient_name
    start, end = data_models.DATE_FIELDS[data_models.data_model_of(signed)]
    row.valid_from = parse_datetime(signed[start], field=start)
    if end in signed:
        row.valid_until = parse_datetime(signed[end], field=end)


def _publish_achievement(issuer: Issuer, signed: Mapping[str, Any]) -> None:
    subject = signed.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(achievement, dict) or not isinstance(achievement.get("id"), str):
        return
    row = db.session.scalar(
        select(AchievementRow).where(AchievementRow.achievement_id == achievement["id"])
    )
    if row is None:
        db.session.add(
            AchievementRow(achievement_id=achievement["id"], issuer=issuer, document=achievement)
        )
    elif row.issuer_id == issuer.id:
        row.document = achievement
        row.updated_at = datetime.now(UTC)


# -- revocation and suspension ---------------------------------------------------------------


def history(row: IssuedCredential) -> list[CredentialEvent]:
    """The credential's events, oldest first."""
    return list(
        db.session.scalars(
            select(CredentialEvent)
            .where(CredentialEvent.credential_id == row.id)
            .order_by(CredentialEvent.at, CredentialEvent.id)
        )
    )


def find_credential(identifier: str) -> IssuedCredential | None:
    """A credential by its public id, its numeric id or its credential ``id`` URL."""
    query = select(IssuedCredential).where(
        (IssuedCredential.public_id == identifier) | (IssuedCredential.credential_id == identifier)
    )
    row = db.session.scalar(query)
    row_id = whole_number(identifier, at_most=MAX_ID) if row is None else None
    if row_id is not None:
        row = db.session.get(IssuedCredential, row_id)
    return row


def set_status(
    row: IssuedCredential,
    action: str,
    *,
    reason: str,
    actor: str = "service",
    config: ServiceConfig | None = None,
) -> IssuedCredential:
    """``revoke``, ``suspend`` or ``unsuspend`` a credential.

    The status bit is flipped and the list re-signed in the same transaction as the
    credential's record.  Revocation is final.  Raises :class:`StatusConflictError` for a
    transition that is not allowed (e.g. suspending a revoked credential), :class:`IssueError`
    without a reason (revoking, suspending).
    """
    config = config or ServiceConfig.current()
    outbox: list[Mail] = []
    with unit_of_work(write=True):
        # The recipient is told and the features that follow a credential's status follow it
        # (a stack badge is revoked with its component): portfolio/issuing/status_changes.py.
        change_status_in_transaction(
            row, action, reason=reason, actor=actor, config=config, outbox=outbox
        )
    send_mail(outbox)  # after the commit: a mail failure never undoes the change
    return row


def set_status_in_transaction(
    row: IssuedCredential,
    action: str,
    *,
    reason: str,
    actor: str = "service",
    config: ServiceConfig | None = None,
) -> IssuedCredential:
    """Like :func:`set_status`, inside a write transaction the caller began and will commit
    (a re-issue revokes the old credential together with storing the new one)."""
    config = config or ServiceConfig.current()
    reason = " ".join(str(reason or "").split())[:500]
    if not reason and action != "unsuspend":
        raise IssueError(_l("a reason is required"))
    # The caller read the row before this transaction locked anything (a page loads it to see
    # who may change it), and on PostgreSQL another worker may have changed it since: read it
    # again under its row lock, so that two changes of one credential run one after the other
    # and the second sees the first (two revocations at once: one revokes, the other is
    # refused — never two "revoked" events and a second reason).  Pending changes of the
    # caller's transaction are flushed first, so the refresh keeps them.  (On SQLite,
    # the write unit's BEGIN IMMEDIATE already serializes writers; FOR UPDATE is not rendered.)
    db.session.flush()
    db.session.refresh(row, with_for_update=True)
    if row.revoked_at is not None:
        raise StatusConflictError(_l("the credential is revoked; revocation is final"))
    now = datetime.now(UTC)
    if action == "revoke":
        _flip(config, row.revocation_list_id, row.revocation_index, True, "revocation")
        row.revoked_at, row.revocation_reason = now, reason
        metrics.credential_revoked()  # counted when the transaction commits
    elif action == "suspend":
        if row.suspended_at is not None:
            raise StatusConflictError(_l("the credential is already suspended"))
        _flip(config, row.suspension_list_id, row.suspension_index, True, "suspension")
        row.suspended_at, row.suspension_reason = now, reason
    elif action == "unsuspend":
        if row.suspended_at is None:
            raise StatusConflictError(_l("the credential is not suspended"))
        _flip(config, row.suspension_list_id, row.suspension_index, False, "suspension")
        row.suspended_at, row.suspension_reason = None, None
    else:
        raise ValueError(f"unknown action {action!r}")
    done = {"revoke": "revoked", "suspend": "suspended"}.get(action, "unsuspended")
    db.session.add(
        CredentialEvent(
            credential_id=row.id, action=done, reason=reason or None, actor=actor, at=now
        )
    )
    _audit(f"credential_{done}", row, actor, reason)
    verdict_generation.bump()  # cached verdicts of every worker are stale from this commit on
    return row


def _flip(
    config: ServiceConfig, list_id: int | None, index: int | None, value: bool, purpose: str
) -> None:
    if list_id is None or index is None:
        raise StatusConflictError(f"the credential was issued without a {purpose} status entry")
    row = db.session.get(StatusListRow, list_id, with_for_update=True)
    if row is None:
        raise StatusConflictError(f"the {purpose} status list is missing")
    bits = bytearray(row.bits)
    mask = 0x80 >> (index % 8)
    bits[index // 8] = bits[index // 8] | mask if value else bits[index // 8] & ~mask
    row.bits = bytes(bits)
    _publish(config, row)


# -- verification ----------------------------------------------------------------------------


class ServiceKeyResolver:
    """Keys of our own issuers from the database (documents at hand never replace them);
    did:key offline; documents at hand; others via ``fetch`` (did:web) and
    ``fetch_controller_document`` (HTTP(S) verification methods).

    One resolver serves one verification — :func:`service_verifier` makes one per request —
    so each DID's keys are read once within it: a credential and its two status lists (three
    proofs, one issuer) cost one query, not six.  A key revoked meanwhile is seen by the next
    verification.
    """

    def __init__(
        self,
        *,
        key_store: KeyStore,
        fetch_did_document: Callable[[str], Mapping[str, Any]] | None = None,
        extra_documents: Mapping[str, Mapping[str, Any]] | None = None,
        fetch_controller_document: Callable[[str], Mapping[str, Any]] | None = None,
    ) -> None:
        self._key_store = key_store
        self._fetch = fetch_did_document
        self._fetch_controller = fetch_controller_document
        self._extra = dict(extra_documents or {})
        self._keys_of: dict[str, list[KeyRecord]] = {}

    def __call__(self, verification_method: str) -> ResolvedMethod:
        did = verification_method.split("#", 1)[0]
        documents: dict[str, Mapping[str, Any]] = {}
        own_keys = self._keys(did) if did.startswith("did:web:") else []
        if own_keys:
            documents[did] = did_web_document(did, own_keys)
        elif did in self._extra:
            documents[did] = self._extra[did]
        elif did.startswith("did:web:") and self._fetch is not None:
            documents[did] = self._fetch(did)
        elif did.startswith(("https://", "http://")) and self._fetch_controller is not None:
            documents[did] = self._fetch_controller(did)  # refuses http:// (https only)
        return OfflineKeyResolver(did_documents=documents, key_status=self._status)(
            verification_method
        )

    def _keys(self, controller: str) -> list[KeyRecord]:
        if controller not in self._keys_of:
            self._keys_of[controller] = self._key_store.list(controller)
        return self._keys_of[controller]

    def _status(self, verification_method: str) -> tuple[str, datetime | None] | None:
        # As KeyStore.find_by_verification_method, from the keys already read.
        controller, _, fragment = verification_method.partition("#")
        for record in self._keys(controller) if fragment else []:
            if record.public_key_multibase == fragment:
                return record.status, record.retired_at
        return None


class ServiceStatusLists:
    """Our status lists from the database; others via ``fetch`` (or cannot decide)."""

    def __init__(
        self,
        *,
        config: ServiceConfig,
        fetch: Callable[[str], Mapping[str, Any]] | None = None,
        extra_lists: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._prefix = config.status_list_url("")
        self._fetch = fetch
        self._extra = dict(extra_lists or {})

    def __call__(self, url: str) -> Mapping[str, Any]:
        if url in self._extra:
            return self._extra[url]
        if url.startswith(self._prefix):
            public_id = url[len(self._prefix) :]
            # Only the signed list: its bits and allocation map (32 KB) are not needed here.
            signed = db.session.scalar(
                select(StatusListRow.credential).where(StatusListRow.public_id == public_id)
            )
            if signed is None:
                raise CannotDecideError(f"status list {url} does not exist")
            return dict(json.loads(signed))
        if self._fetch is not None:
            return self._fetch(url)
        raise CannotDecideError(
            f"status list {url} is on another host and fetching is disabled (CREDFOLIO_ALLOW_FETCH)"
        )


def service_verifier(
    *,
    config: ServiceConfig | None = None,
    fetch_did_document: Callable[[str], Mapping[str, Any]] | None = None,
    fetch_status_list: Callable[[str], Mapping[str, Any]] | None = None,
    did_documents: Mapping[str, Mapping[str, Any]] | None = None,
    status_lists: Mapping[str, Mapping[str, Any]] | None = None,
    now: Callable[[], datetime] | None = None,
    fetch_controller_document: Callable[[str], Mapping[str, Any]] | None = None,
    budget: WorkBudget | None = None,
) -> Verifier:
    """The verifier the service uses for the API, the pages and the CLI.

    ``did_documents`` (DID and controller documents, by id) and ``status_lists`` are documents
    at hand (files given to the CLI, documents sent to the verify API).
    A request handler passes the request's work ``budget``: every verification through this
    verifier then draws on it (all the credentials of a presentation share it) and each status
    list is verified once per request (docs/security.md, "One work budget per request").
    Without one, each ``verify`` call gets a fresh budget of its own.
    """
    config = config or ServiceConfig.current()
    fetch_related_resource = None
    if current_app.config.get("CREDFOLIO_ALLOW_FETCH"):
        from portfolio.issuing import remote

        fetch_did_document = fetch_did_document or remote.did_web_fetcher()
        fetch_status_list = fetch_status_list or remote.status_list_fetcher()
        fetch_controller_document = (
            fetch_controller_document or remote.controller_document_fetcher()
        )
        fetch_related_resource = remote.related_resource_fetcher()
    resolve_key = ServiceKeyResolver(
        key_store=config.key_store,
        fetch_did_document=fetch_did_document,
        extra_documents=did_documents,
        fetch_controller_document=fetch_controller_document,
    )
    resolve_status_list = ServiceStatusLists(
        config=config, fetch=fetch_status_list, extra_lists=status_lists
    )
    trust = service_trust_policy()
    if now is None:
        return Verifier(
            loader=config.loader,
            resolve_key=resolve_key,
            resolve_status_list=resolve_status_list,
            trust=trust,
            budget=budget,
            resolve_related_resource=fetch_related_resource,
        )
    return Verifier(
        loader=config.loader,
        resolve_key=resolve_key,
        resolve_status_list=resolve_status_list,
        now=now,
        trust=trust,
        budget=budget,
        resolve_related_resource=fetch_related_resource,
    )
