"""The key compromise procedure (:func:`handle_compromise`, run by ``credfolio keys compromised``):
revoke the key, make sure of an active key, sign its status lists again and re-issue everything
it signed.  Audited, and safe to run again."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from issuer_keys.errors import IssuerKeyError, KeyNotFoundError
from issuer_keys.store import KeyRecord, KeyStore
from portfolio.accounts.actors import record_as
from portfolio.accounts.models import Issuer
from portfolio.core.db import Model, db, unit_of_work
from portfolio.core.errors import ConflictError, InvalidInputError, NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import new_public_id
from portfolio.issuing import service as services
from portfolio.issuing.models import (
    CredentialEvent,
    IssuedCredential,
    StatusListRow,
)

#: The revocation reason verifiers see on a credential signed with a compromised key.
REVOCATION_REASON = "signing key compromised"
MAX_ATTEMPTS = 5


class CompromiseError(InvalidInputError):
    """The procedure cannot run for this key (the message says why; safe to show)."""


class UnknownKeyError(CompromiseError, NotFoundError):
    """There is no key with that id."""


class ReissueConflictError(CompromiseError, ConflictError):
    """A credential could not be re-issued for concurrent changes; running again continues."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one credential signed with the key."""

    public_id: str
    #: ``reissued``, ``already reissued`` or ``revoked before`` (not re-issued: it was revoked
    #: for another reason before the compromise was known).
    result: str
    new_public_id: str | None = None


@dataclass
class CompromiseReport:
    key_id: str
    verification_method: str
    controller: str
    revoked_now: bool
    active_key_id: str
    rotated: bool
    status_lists: int = 0
    credentials: list[Outcome] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The per-credential report the command prints."""
        lines = [
            f"Key {self.key_id} ({self.verification_method}): "
            + ("revoked now" if self.revoked_now else "was already revoked")
            + "; it is no longer in the DID document.",
            f"Active key: {self.active_key_id}"
            + (" (new: rotated)" if self.rotated else " (unchanged)"),
            f"Status lists signed again: {self.status_lists}",
        ]
        for outcome in self.credentials:
            if outcome.result == "reissued":
                lines.append(f"{outcome.public_id}: re-issued as {outcome.new_public_id}")
            elif outcome.result == "already reissued":
                lines.append(f"{outcome.public_id}: already re-issued as {outcome.new_public_id}")
            else:
                lines.append(f"{outcome.public_id}: revoked before the compromise; not re-issued")
        counts = {
            name: sum(1 for o in self.credentials if o.result == name)
            for name in ("reissued", "already reissued", "revoked before")
        }
        lines.append(
            f"{len(self.credentials)} credential(s) signed with the key: "
            f"{counts['reissued']} re-issued now, {counts['already reissued']} re-issued before, "
            f"{counts['revoked before']} revoked before."
        )
        return lines


def handle_compromise(key_id: str, *, reason: str, actor: str = "cli") -> CompromiseReport:
    """Run the whole procedure for ``key_id``; needs an application context.

    In order: (1) revoke the key in the key store, so the issuer's did:web document no longer
    lists it and nothing it signed verifies any more; (2) make sure the issuer has an active key
    that is not the compromised one (rotate); (3) sign again every status list whose last
    signature was made with the key (otherwise no status could be read from it); (4) find every
    credential whose proof names the key and re-issue each one with the new key: the same
    content under a new id and page with new status positions, linked to the old one by
    credential events, the student's records moved to it, and the old one revoked ("signing key
    compromised") in the same transaction.  Every step records audit events.  Running it again
    does nothing more: a revoked key stays revoked, and a credential already replaced is
    reported, not re-issued twice.

    Raises :class:`CompromiseError` for an unknown key (:class:`UnknownKeyError`), a key that is
    not one of our issuers' did:web keys, or an empty reason; ``CredentialError`` when a
    re-issue fails (the credentials handled before it stay handled; running again continues
    with the rest).
    """
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise CompromiseError(_l("give the reason (how the key was compromised)"))
    store: KeyStore = current_app.extensions["credfolio"].key_store
    record, issuer = _issuer_key(store, key_id)

    # 1. Revoke: the did:web document leaves the key out; its proofs fail key-status.
    revoked_now = record.status != "revoked"
    record = store.revoke(key_id, reason)
    # 2. An active key that is not the compromised one.
    active, rotated = _active_key(store, issuer.did)
    report = CompromiseReport(
        key_id=key_id,
        verification_method=record.verification_method,
        controller=record.controller,
        revoked_now=revoked_now,
        active_key_id=active.key_id,
        rotated=rotated,
    )
    # 3. Status lists last signed with the key.
    report.status_lists = _resign_status_lists(issuer, record.verification_method)
    # 4. Every credential the key signed, oldest first (stack badges after their components,
    # so their links to a component credential can follow it to its new page).
    moved: dict[str, str] = {}
    for credential_id in _signed_with(issuer, record):
        report.credentials.append(
            _handle_credential(credential_id, record, issuer, actor=actor, moved=moved)
        )
    _record_compromise(report, issuer, reason=reason, actor=actor)
    return report


def _record_compromise(
    report: CompromiseReport, issuer: Issuer, *, reason: str, actor: str
) -> None:
    """The closing audit event, with the counts (committed)."""
    with unit_of_work():
        record_as(
            "key_compromised",
            actor,
            issuer_id=issuer.id,
            target=f"key:{report.key_id}",
            detail={
                "reason": reason,
                "active_key": report.active_key_id,
                "status_lists": report.status_lists,
                "reissued": sum(1 for o in report.credentials if o.result == "reissued"),
            },
        )


def _issuer_key(store: KeyStore, key_id: str) -> tuple[KeyRecord, Issuer]:
    """The key and its issuer; :class:`CompromiseError` unless it is one of our issuers'
    did:web keys."""
    try:
        record = store.get(key_id)
    except KeyNotFoundError:
        raise UnknownKeyError(_l("no key %(key)r", key=key_id)) from None
    issuer = db.session.scalar(select(Issuer).where(Issuer.did == record.controller))
    if issuer is None or not record.controller.startswith("did:web:"):
        # An assessor's did:key is its own DID document: it cannot be taken out of one.
        raise CompromiseError(
            _l(
                "%(key)s is not a did:web key of one of this service's issuers (%(did)s); this "
                "procedure handles issuer keys only",
                key=key_id,
                did=record.controller,
            )
        )
    return record, issuer


def _active_key(store: KeyStore, did: str) -> tuple[KeyRecord, bool]:
    """The issuer's active key, made (rotated) when it has none; and whether it was made."""
    try:
        return store.active(did), False
    except KeyNotFoundError:
        return _rotate(store, did), True


def _rotate(store: KeyStore, did: str) -> KeyRecord:
    try:
        return store.rotate(did)
    except IssuerKeyError:  # another process made a new key at the same moment
        return store.active(did)


def _proof_methods(document: Mapping[str, Any]) -> set[str]:
    proofs = document.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs] if proofs else []
    methods = (p.get("verificationMethod") for p in proofs if isinstance(p, dict))
    return {method for method in methods if isinstance(method, str)}


def _resign_status_lists(issuer: Issuer, verification_method: str) -> int:
    count = 0
    with unit_of_work(write=True):
        rows = db.session.scalars(
            select(StatusListRow)
            .where(StatusListRow.issuer_id == issuer.id)
            .order_by(StatusListRow.id)
            .with_for_update()
        )
        for row in rows:
            if verification_method in _proof_methods(json.loads(row.credential)):
                services.resign_status_list(row)
                count += 1
    return count


def _signed_with(issuer: Issuer, record: KeyRecord) -> list[int]:
    """Ids of the issuer's credentials with a proof by the key, oldest first."""
    candidates = db.session.execute(
        select(IssuedCredential.id, IssuedCredential.document)
        .where(
            IssuedCredential.issuer_id == issuer.id,
            # A cheap filter first; the proofs themselves decide.
            IssuedCredential.document.contains(record.public_key_multibase),
        )
        .order_by(IssuedCredential.id)
    ).all()
    return [
        row_id
        for row_id, document in candidates
        if record.verification_method in _proof_methods(json.loads(document))
    ]


def _replacement(row: IssuedCredential) -> str | None:
    """The public id of the credential that replaced ``row`` (None if none did)."""
    event = db.session.scalar(
        select(CredentialEvent).where(
            CredentialEvent.credential_id == row.id, CredentialEvent.action == "replaced"
        )
    )
    if event is None or not event.reason:
        return None
    return event.reason.rsplit("/", 1)[-1]


def _handle_credential(
    credential_id: int, record: KeyRecord, issuer: Issuer, *, actor: str, moved: dict[str, str]
) -> Outcome:
    """Re-issue one credential signed with the key, in its own write unit of work (retried when
    a status position is taken concurrently); record its move in ``moved`` once committed."""
    config = services.ServiceConfig.current()
    for _ in range(MAX_ATTEMPTS):
        try:
            with unit_of_work(write=True):
                outcome, urls = _handle_locked(
                    credential_id, record, issuer, config=config, actor=actor, moved=moved
                )
        except IntegrityError:  # a status position taken concurrently: start again
            continue
        moved.update(urls)
        return outcome
    raise ReissueConflictError(
        _l("could not re-issue credential %(id)s; run the command again", id=credential_id)
    )


def _handle_locked(
    credential_id: int,
    record: KeyRecord,
    issuer: Issuer,
    *,
    config: services.ServiceConfig,
    actor: str,
    moved: Mapping[str, str],
) -> tuple[Outcome, dict[str, str]]:
    """Inside the unit of work: lock the credential, and re-issue it unless it was replaced or
    revoked before (then nothing is written).  Returns what happened and the old URLs mapped to
    the new one."""
    old = db.session.get(
        IssuedCredential, credential_id, with_for_update=True, populate_existing=True
    )
    if old is None:  # cannot happen: rows are never deleted
        raise CompromiseError(f"credential {credential_id} disappeared")
    replaced_by = _replacement(old)
    if replaced_by is not None:
        return Outcome(old.public_id, "already reissued", replaced_by), {}
    if old.revoked_at is not None:
        return Outcome(old.public_id, "revoked before"), {}
    old_urls = {old.credential_id, config.credential_url(old.public_id)}
    new = _reissue(old, record, issuer, config=config, actor=actor, moved=moved)
    new_url = config.credential_url(new.public_id)
    return Outcome(old.public_id, "reissued", new.public_id), dict.fromkeys(old_urls, new_url)


def _reissue(
    old: IssuedCredential,
    record: KeyRecord,
    issuer: Issuer,
    *,
    config: services.ServiceConfig,
    actor: str,
    moved: Mapping[str, str],
) -> IssuedCredential:
    """Store the replacement of ``old`` and revoke ``old``, in the caller's transaction."""
    public_id = new_public_id()
    old_url, new_url = old.credential_id, config.credential_url(public_id)
    here = {old_url: new_url, config.credential_url(old.public_id): new_url}
    unsigned = unsigned_copy(
        json.loads(old.document), {**moved, **here}, config=config, new_url=new_url
    )
    new = services.issue_in_transaction(
        unsigned,
        issuer=issuer,
        public_id=public_id,
        recipient_name=old.recipient_name,
        recipient_user_id=old.recipient_user_id,
        actor=actor,
        config=config,
    )
    new.client_id = old.client_id
    new.hidden_by_recipient = old.hidden_by_recipient
    _link_replacement(
        old, new, old_url, new_url, why=f"signing key {record.key_id} compromised", actor=actor
    )
    _move_records(old, new)
    if old.suspended_at is not None:
        services.set_status_in_transaction(
            new, "suspend", reason=old.suspension_reason or "suspended", actor=actor, config=config
        )
    services.set_status_in_transaction(
        old, "revoke", reason=REVOCATION_REASON, actor=actor, config=config
    )
    record_as(
        "credential_reissued",
        actor,
        issuer_id=issuer.id,
        target=f"credential:{new.public_id}",
        detail={"replaces": old.public_id, "key": record.key_id},
    )
    return new


def _link_replacement(
    old: IssuedCredential,
    new: IssuedCredential,
    old_url: str,
    new_url: str,
    *,
    why: str,
    actor: str,
) -> None:
    """The credential events linking the replacement and the replaced credential."""
    db.session.add_all(
        [
            CredentialEvent(
                credential_id=new.id,
                action="reissued",
                reason=f"{why}; replaces {old_url}",
                actor=actor,
            ),
            CredentialEvent(
                credential_id=old.id,
                action="replaced",
                reason=f"{why}; replaced by {new_url}",
                actor=actor,
            ),
        ]
    )


def _move_records(old: IssuedCredential, new: IssuedCredential) -> None:
    """The student's records follow the credential: the mastery it proves, the submission it
    was issued for (whose evidence pages are now under the new id), an API retry — every
    table that says so (``follows_reissued_credential``), whichever feature owns it."""
    for model in _following_reissue():
        db.session.execute(
            update(model)
            .where(model.credential_id == old.id)
            .values(credential_id=new.id)
            .execution_options(synchronize_session=False)
        )


def unsigned_copy(
    document: dict[str, Any],
    moved: Mapping[str, str],
    *,
    config: services.ServiceConfig,
    new_url: str,
) -> dict[str, Any]:
    """The credential without its proof and status entries, under ``new_url``.

    Links to a moved credential (``moved``: old URL → new URL; the credential's own evidence
    pages, a stack badge's component credentials) follow it.  Embedded endorsements of the old
    credential are signed again by their endorser for the new id when the service holds that
    endorser's key; any other endorsement is kept as it is (it still verifies on its own).
    """
    stripped = copy.deepcopy(document)
    for name in ("proof", "credentialStatus"):
        stripped.pop(name, None)
    endorsements = stripped.pop("endorsement", None)
    unsigned: dict[str, Any] = _moved_links(stripped, moved)
    unsigned["id"] = new_url
    if endorsements is not None:
        items = endorsements if isinstance(endorsements, list) else [endorsements]
        unsigned["endorsement"] = [
            _endorse_again(item, moved, config=config) if isinstance(item, dict) else item
            for item in items
        ]
    return unsigned


def _moved_links(value: Any, moved: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _moved_links(item, moved) for key, item in value.items()}
    if isinstance(value, list):
        return [_moved_links(item, moved) for item in value]
    if isinstance(value, str):
        for old, new in moved.items():
            if value == old or value.startswith(old + "/"):
                return new + value[len(old) :]
    return value


def _endorse_again(
    endorsement: dict[str, Any], moved: Mapping[str, str], *, config: services.ServiceConfig
) -> dict[str, Any]:
    subject = endorsement.get("credentialSubject")
    issuer = endorsement.get("issuer")
    did = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(subject, dict) or subject.get("id") not in moved or not isinstance(did, str):
        return endorsement
    unsigned = copy.deepcopy(endorsement)
    unsigned.pop("proof", None)
    unsigned["id"] = f"urn:uuid:{uuid.uuid4()}"
    unsigned["credentialSubject"]["id"] = moved[subject["id"]]
    try:
        return services.sign_as(did, unsigned, config=config)
    except (IssuerKeyError, KeyNotFoundError):  # raised before signing: no key of ours
        return endorsement  # not ours to sign: kept as it was


def _following_reissue() -> list[Any]:
    """The tables whose ``credential_id`` follows a reissued credential, in a stable order."""
    classes = [mapper.class_ for mapper in Model.registry.mappers]
    chosen = [cls for cls in classes if getattr(cls, "follows_reissued_credential", False)]
    return sorted(chosen, key=lambda cls: cls.__tablename__)
