"""The administrators' issuer page (bp ``issuer_admin``): their school as an issuer — its profile
(:mod:`portfolio.issuing.issuer_profile`), DID and signing key — and its status option,
suspension (:mod:`portfolio.issuing.status_options`).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from issuer_keys.errors import IssuerKeyError
from portfolio.accounts.auth import current_user, login_required
from portfolio.accounts.models import Issuer, Role
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.issuing import issuer_profile, status_options
from portfolio.issuing.forms import IssuerProfileForm, IssuerStatusForm
from portfolio.issuing.keystore import SqlKeyStore

bp = Blueprint("issuer_admin", __name__, url_prefix="/admin")

#: :data:`status_options.STRICT_VALIDATORS_WARNING`, in the reader's language.
SUSPENSION_WARNING = _l(
    "With suspension on, each new credential carries two credentialStatus entries (revocation "
    "and suspension). The VC Data Model 2.0 allows this, but the 1EdTech Open Badges 3.0 JSON "
    "Schema allows only one, so strict OB 3.0 validators (Python jsonschema, ajv, the DCC "
    "verifier) will report those credentials as invalid."
)


def _own_issuer() -> tuple[Issuer, int]:
    """The signed-in administrator's issuer and the administrator's id (404 without one)."""
    user = current_user()
    if user is None or user.issuer is None:
        abort(404)
    return user.issuer, user.id


def _profile_form(issuer: Issuer) -> IssuerProfileForm:
    return IssuerProfileForm(
        formdata=None, **{name: getattr(issuer, name) or "" for name in issuer_profile.FIELDS}
    )


def _page(
    issuer: Issuer,
    form: IssuerStatusForm,
    status: int = 200,
    *,
    profile: IssuerProfileForm | None = None,
) -> ResponseReturnValue:
    from flask import current_app

    store: SqlKeyStore = current_app.extensions["credfolio"].key_store
    try:
        method: str | None = store.active(issuer.did).verification_method
    except IssuerKeyError:
        method = None
    page = render_template(
        "issuing/issuer.html",
        issuer=issuer,
        form=form,
        profile=profile or _profile_form(issuer),
        verification_method=method,
        purposes=status_options.purposes_for(issuer),
        warning=SUSPENSION_WARNING,
    )
    return page, status


@bp.get("/issuer")
@login_required(role=Role.ADMIN)
def issuer() -> ResponseReturnValue:
    """The issuer: name, DID, signing key, and which status entries new credentials carry."""
    own, _ = _own_issuer()
    return _page(own, IssuerStatusForm(formdata=None, offers_suspension=own.offers_suspension))


@bp.post("/issuer/profile")
@login_required(role=Role.ADMIN)
def profile() -> ResponseReturnValue:
    """Save the issuer's profile (what new credentials say about the school); 303 back."""
    own, admin_id = _own_issuer()
    form = IssuerProfileForm()
    status_form = IssuerStatusForm(formdata=None, offers_suspension=own.offers_suspension)
    if not form.validate_on_submit():
        return _page(own, status_form, 422, profile=form)
    try:
        changed = issuer_profile.update(own, form.values(), actor=f"user:{admin_id}")
    except issuer_profile.ProfileError as error:
        form[error.field].errors = [error.message]
        return _page(own, status_form, 422, profile=form)
    if changed:
        flash(
            _(
                "Profile saved: new credentials carry it; those already issued keep the "
                "profile they were signed with."
            ),
            "success",
        )
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for(".issuer"), 303)


@bp.post("/issuer/status")
@login_required(role=Role.ADMIN)
def status() -> ResponseReturnValue:
    """Switch suspension on or off for new credentials; 303 back with what it means."""
    own, admin_id = _own_issuer()
    form = IssuerStatusForm()
    if not form.validate_on_submit():
        return _page(own, form, 422)
    on = bool(form.offers_suspension.data)
    status_options.set_suspension(own, on, actor=f"user:{admin_id}")
    if on:
        flash(
            _("Suspension is on for new credentials. %(warning)s", warning=SUSPENSION_WARNING),
            "warning",
        )
    else:
        flash(
            _(
                "Suspension is off: new credentials carry one revocation status entry, as the "
                "1EdTech Open Badges 3.0 schema requires. Credentials issued with a suspension "
                "entry can still be suspended."
            ),
            "success",
        )
    return redirect(url_for(".issuer"), 303)
