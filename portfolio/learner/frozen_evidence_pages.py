"""The evidence frozen in my credentials (bp ``frozen_evidence``): for each credential issued
to me, the copies of my evidence it shows (taken at issuance, see
:mod:`portfolio.evidence.snapshots`), whether they are public, and withdrawing them from public
view or showing them again (the credential itself is not touched: it still verifies), asking
the school to revoke a credential, and deleting the evidence of a revoked one.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role
from portfolio.core.errors import CredfolioError, NotFoundError, status_for
from portfolio.evidence.snapshots import set_withdrawn, snapshots_of
from portfolio.learner import revocation_requests, service
from portfolio.learner.forms import DeleteFrozenForm, RevocationRequestForm, WithdrawalForm
from portfolio.learner.frozen_evidence import delete_frozen_evidence

bp = Blueprint("frozen_evidence", __name__)


@bp.get("/my/credentials/evidence")
@login_required(role=Role.STUDENT)
def show_all() -> ResponseReturnValue:
    """My credentials with the evidence frozen in them, and whether it is public."""
    return _page()


def _page(
    errors: dict[str, str] | None = None, sent: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    """The page; ``errors`` and ``sent`` (the reasons typed) by credential public id."""
    rows = [
        (credential, snapshots_of(credential))
        for credential in service.my_credentials(signed_in_user())
    ]
    page = render_template(
        "learner/frozen_evidence.html",
        credentials=[row for row in rows if row[1]],
        errors=errors or {},
        sent=sent or {},
    )
    return page, status


@bp.post("/my/credentials/<public_id>/evidence/delete")
@login_required(role=Role.STUDENT)
def delete_frozen(public_id: str) -> ResponseReturnValue:
    """Delete the evidence frozen in one of my revoked credentials, once confirmed (the box
    ticked); unconfirmed or refused, the page again saying why."""
    key = f"delete-{public_id}"
    if not DeleteFrozenForm().confirmed:
        return _page({key: _("Nothing was deleted: tick the box to confirm.")}, status=422)
    try:
        credential = delete_frozen_evidence(signed_in_user(), public_id)
    except NotFoundError:
        abort(404)
    except CredfolioError as error:
        return _page({key: error.message}, status=status_for(error))
    name = credential.achievement_name or _("the credential")
    flash(_("The evidence of “%(name)s” is deleted.", name=name), "success")
    return redirect(url_for(".show_all"), 303)


@bp.post("/my/credentials/<public_id>/revocation-request")
@login_required(role=Role.STUDENT)
def ask_for_revocation(public_id: str) -> ResponseReturnValue:
    """Ask the school to revoke one of my credentials (the way to have its frozen evidence
    removed); the administrators decide."""
    reason = RevocationRequestForm().reason.data or ""
    try:
        credential = revocation_requests.ask_for_revocation(signed_in_user(), public_id, reason)
    except NotFoundError:
        abort(404)
    except CredfolioError as error:
        key = f"reason-{public_id}"
        return _page({key: error.message}, {key: reason[:5000]}, status_for(error))
    name = credential.achievement_name or _("the credential")
    flash(
        _(
            "Your request to revoke “%(name)s” was sent to your school's administrators.",
            name=name,
        ),
        "success",
    )
    return redirect(url_for(".show_all"), 303)


@bp.post("/my/credentials/<public_id>/evidence/visibility")
@login_required(role=Role.STUDENT)
def visibility(public_id: str) -> ResponseReturnValue:
    """Withdraw the credential's evidence from public view (``withdrawn`` is ``1``), or show
    it again."""
    withdraw = WithdrawalForm().withdraw
    try:
        credential = set_withdrawn(signed_in_user(), public_id, withdrawn=withdraw)
    except NotFoundError:
        abort(404)
    name = credential.achievement_name or _("the credential")
    flash(
        _(
            "The evidence of “%(name)s” is withdrawn from public view; "
            "the credential still verifies.",
            name=name,
        )
        if withdraw
        else _(
            "The evidence of “%(name)s” is shown again to people who check the credential.",
            name=name,
        ),
        "success",
    )
    return redirect(url_for(".show_all"), 303)
