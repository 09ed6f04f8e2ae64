"""The evidence frozen in my credentials (bp ``frozen_evidence``): for each credential issued
to me, the copies of my evidence it shows (taken at issuance, see
:mod:`portfolio.evidence.snapshots`), whether they are public, and withdrawing them from public
view or showing them again.  The credential itself is not touched: it still verifies.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role
from portfolio.core.errors import NotFoundError
from portfolio.evidence.snapshots import set_withdrawn, snapshots_of
from portfolio.learner import service
from portfolio.learner.forms import WithdrawalForm

bp = Blueprint("frozen_evidence", __name__)


@bp.get("/my/credentials/evidence")
@login_required(role=Role.STUDENT)
def show_all() -> ResponseReturnValue:
    """My credentials with the evidence frozen in them, and whether it is public."""
    rows = [
        (credential, snapshots_of(credential))
        for credential in service.my_credentials(signed_in_user())
    ]
    return render_template(
        "learner/frozen_evidence.html", credentials=[row for row in rows if row[1]]
    )


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
    name = credential.achievement_name or "the credential"
    flash(
        f"The evidence of “{name}” is withdrawn from public view; the credential still verifies."
        if withdraw
        else f"The evidence of “{name}” is shown again to people who check the credential."
    )
    return redirect(url_for(".show_all"), 303)
