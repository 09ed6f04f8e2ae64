"""The catalogue's CASE and CSV imports and exports (on the ``catalogue`` blueprint): upload a
file and read what it did, download a framework or the whole catalogue; each one audited."""

from __future__ import annotations

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts.auth import login_required
from portfolio.accounts.models import Role
from portfolio.catalogue import case, csv_io
from portfolio.catalogue.forms import UploadForm, uploaded_file
from portfolio.catalogue.pages import (
    admin_issuer,
    admin_issuer_id,
    bp,
    current_admin,
    own_framework,
)
from portfolio.core import audit
from portfolio.core.db import unit_of_work
from portfolio.core.links import public_url


def _upload(limit: int) -> bytes | None:
    """The bytes of the uploaded ``file`` (at most ``limit`` + 1), or None when none was
    chosen."""
    upload = uploaded_file(UploadForm().file)
    if upload is None:
        return None
    return upload.stream.read(limit + 1)


def _download(data: bytes, media_type: str, filename: str) -> Response:
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _audit(action: str, target: str, **detail: str) -> None:
    """Record an import or export of the catalogue, in its own unit of work.  The importers
    commit their own, so an import's event follows right after it, in the next one."""
    with unit_of_work():
        audit.record(
            action, actor=current_admin(), issuer_id=admin_issuer_id(), target=target, detail=detail
        )


@bp.route("/admin/catalogue/import/case", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def import_case() -> ResponseReturnValue:
    """Upload a CASE package (JSON); the answer is what was created, updated and archived."""
    summary, error = None, None
    if request.method == "POST":
        data = _upload(case.MAX_BYTES)
        if data is None:
            error = _("Choose a CASE JSON file.")
        else:
            try:
                summary = case.import_package(data, issuer=admin_issuer())
            except case.CaseError as problem:
                error = _("This file cannot be imported: %(problem)s.", problem=problem)
            else:
                _audit(
                    "catalogue_imported",
                    f"framework:{summary.framework.public_id}",
                    format="case",
                    result=summary.record(),
                )
    status = 422 if error else 200
    return render_template("catalogue/import_case.html", summary=summary, error=error), status


@bp.get("/admin/catalogue/frameworks/<public_id>/case.json")
@login_required(role=Role.ADMIN)
def export_case(public_id: str) -> ResponseReturnValue:
    """Download a framework as a CASE package (JSON)."""
    framework = own_framework(public_id)
    package = case.export_package(framework, public_url=public_url())
    _audit("catalogue_exported", f"framework:{framework.public_id}", format="case")
    return _download(case.dumps(package), "application/json", f"{framework.public_id}.json")


@bp.route("/admin/catalogue/import/csv", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def import_csv() -> ResponseReturnValue:
    """Upload a catalogue CSV; the answer is the per-row report."""
    report, error = None, None
    if request.method == "POST":
        data = _upload(csv_io.MAX_BYTES)
        if data is None:
            error = _("Choose a CSV file.")
        else:
            try:
                report = csv_io.import_csv(data, issuer=admin_issuer())
            except csv_io.CatalogueCsvError as problem:
                error = _("This file cannot be imported: %(problem)s.", problem=problem)
            else:
                _audit("catalogue_imported", "catalogue", format="csv", result=report.record())
    status = 422 if error else 200
    page = render_template(
        "catalogue/import_csv.html", report=report, error=error, columns=csv_io.COLUMNS
    )
    return page, status


@bp.get("/admin/catalogue/catalogue.csv")
@login_required(role=Role.ADMIN)
def export_csv() -> ResponseReturnValue:
    """Download every competency of the issuer as CSV."""
    data = csv_io.export_csv(admin_issuer())
    _audit("catalogue_exported", "catalogue", format="csv")
    return _download(data, "text/csv", "catalogue.csv")
