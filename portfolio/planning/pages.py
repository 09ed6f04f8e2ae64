"""The plan and journal pages (blueprint ``planning``): her plan (``/plan``), choosing what to
work toward (``/plan/choose``), changing, moving and removing items, her journal
(``/journal``) with its recordings; and her readers' view (``/learners/<id>/plan``) where her
school's staff and her linked guardians read and comment.  Only she changes her plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role, User
from portfolio.assessment import labels
from portfolio.core.db import db
from portfolio.files import uploads
from portfolio.files.models import Blob
from portfolio.planning import service
from portfolio.planning.forms import CommentForm, EntryForm, ItemForm, MoveForm, chosen
from portfolio.planning.models import JournalEntry, PlanItem
from portfolio.planning.service import PlanError

bp = Blueprint("planning", __name__)


def _own_item(public_id: str) -> PlanItem:
    item = service.find_item(signed_in_user(), public_id)
    if item is None:
        abort(404)
    return item


def _own_entry(public_id: str) -> JournalEntry:
    entry = service.find_entry(signed_in_user(), public_id)
    if entry is None:
        abort(404)
    return entry


def _progress_words() -> dict[str, Any]:
    return {"state_names": labels.progress_states(), "state_tones": labels.PROGRESS_TONES}


# -- her plan --------------------------------------------------------------------------------


@bp.get("/plan")
@login_required(role=Role.STUDENT)
def plan() -> ResponseReturnValue:
    """Her plan: items in her order with their progress, dates, milestones, attached journal
    entries and her readers' comments."""
    view = service.plan_view(signed_in_user())
    return render_template("planning/plan.html", view=view, **_progress_words())


def _choose_page(
    errors: Mapping[str, str] | None = None, sent: Mapping[str, Any] | None = None
) -> ResponseReturnValue:
    student = signed_in_user()
    options = service.choices(student)
    ids = service.public_ids([s.candidate.id for s in options])
    page = render_template(
        "planning/choose.html",
        options=[(ids[s.candidate.id], s) for s in options],
        errors=errors or {},
        sent=sent or {},
        today=service.today(),
        **_progress_words(),
    )
    return page, 422 if errors else 200


@bp.route("/plan/choose", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def choose() -> ResponseReturnValue:
    """What she may work toward next, suggestions first with the reason in words; she ticks
    one or more and sets a date and milestones for each."""
    if request.method == "GET":
        return _choose_page()
    sent = {
        "chosen": request.form.getlist("chosen"),
        "form": request.form,
    }
    try:
        added = service.add_items(signed_in_user(), chosen(request.form))
    except PlanError as error:
        return _choose_page({error.field or "chosen": str(error.message)}, sent)
    flash(
        _("Added to your plan: %(names)s.", names=", ".join(i.competency.name for i in added)),
        "success",
    )
    return redirect(url_for(".plan"), 303)


def _item_page(
    item: PlanItem, values: Mapping[str, Any], errors: Mapping[str, str]
) -> ResponseReturnValue:
    page = render_template("planning/item_form.html", item=item, values=values, errors=errors)
    return page, 422 if errors else 200


@bp.route("/plan/items/<public_id>/edit", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def edit_item(public_id: str) -> ResponseReturnValue:
    """Change an item's target date and milestones."""
    item = _own_item(public_id)
    if request.method == "GET":
        stored = {
            "target_date": item.target_date.isoformat() if item.target_date else "",
            "milestones": item.milestones,
        }
        return _item_page(item, stored, {})
    form = ItemForm()
    sent = {"target_date": form.target_date.data or "", "milestones": form.milestones.data or ""}
    try:
        service.update_item(item, target_date=form.date(), milestones=sent["milestones"])
    except PlanError as error:
        return _item_page(item, sent, {error.field or "milestones": str(error.message)})
    flash(_("“%(name)s” is updated.", name=item.competency.name), "success")
    return redirect(url_for(".plan", _anchor=f"item-{item.public_id}"), 303)


@bp.post("/plan/items/<public_id>/move")
@login_required(role=Role.STUDENT)
def move_item(public_id: str) -> ResponseReturnValue:
    """Move an item one place up or down (``direction``)."""
    item = _own_item(public_id)
    service.move_item(signed_in_user(), item, MoveForm().direction.data or "")
    return redirect(url_for(".plan", _anchor=f"item-{item.public_id}"), 303)


def _remove_page(item: PlanItem, status: int = 200) -> ResponseReturnValue:
    entries = [e for e in service.entries_of(signed_in_user()) if e.plan_item_id == item.id]
    page = render_template(
        "planning/remove_item.html",
        item=item,
        entries=entries,
        comments=service.comments_on(item),
        unconfirmed=status != 200,
    )
    return page, status


@bp.get("/plan/items/<public_id>/remove")
@login_required(role=Role.STUDENT)
def confirm_remove_item(public_id: str) -> ResponseReturnValue:
    """The confirmation step before removing an item: what goes and what stays."""
    return _remove_page(_own_item(public_id))


@bp.post("/plan/items/<public_id>/remove")
@login_required(role=Role.STUDENT)
def remove_item(public_id: str) -> ResponseReturnValue:
    """Remove the item once confirmed; unconfirmed, the confirmation page again (422)."""
    item = _own_item(public_id)
    if request.form.get("confirm") != "yes":
        return _remove_page(item, 422)
    name = item.competency.name
    service.remove_item(item)
    flash(_("“%(name)s” is no longer in your plan.", name=name), "success")
    return redirect(url_for(".plan"), 303)


# -- her journal -----------------------------------------------------------------------------


@bp.get("/journal")
@login_required(role=Role.STUDENT)
def journal() -> ResponseReturnValue:
    """Her journal entries, newest first."""
    student = signed_in_user()
    return render_template(
        "planning/journal.html",
        entries=service.entries_of(student),
        names=_item_names(student),
    )


def _item_names(student: User) -> dict[int, str]:
    return {item.id: item.competency.name for item in service.items_of(student)}


def _entry_page(
    entry: JournalEntry | None,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    status: int | None = None,
) -> ResponseReturnValue:
    student = signed_in_user()
    page = render_template(
        "planning/entry_form.html",
        entry=entry,
        values=values,
        errors=errors,
        items=[(item.public_id, item.competency.name) for item in service.items_of(student)],
    )
    return page, status or (422 if errors else 200)


def _save(entry: JournalEntry | None) -> ResponseReturnValue:
    form = EntryForm()
    try:
        saved = service.save_entry(signed_in_user(), form.values(), entry)
    except PlanError as error:
        return _entry_page(entry, form.as_values(), {error.field or "body": str(error.message)})
    except uploads.UploadError as error:
        status = uploads.upload_status(error)
        return _entry_page(entry, form.as_values(), {"audio": str(error.message)}, status)
    flash(_("Journal entry “%(title)s” saved.", title=saved.title), "success")
    return redirect(url_for(".journal", _anchor=f"entry-{saved.public_id}"), 303)


@bp.route("/journal/new", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def new_entry() -> ResponseReturnValue:
    """A new journal entry (``?item=<public id>`` attaches it to that plan item)."""
    if request.method == "GET":
        item = request.args.get("item", "")
        return _entry_page(None, {"title": "", "body": "", "plan_item": item}, {})
    return _save(None)


@bp.route("/journal/<public_id>/edit", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def edit_entry(public_id: str) -> ResponseReturnValue:
    """Change a journal entry (its recording too)."""
    entry = _own_entry(public_id)
    if request.method == "GET":
        attached = entry.plan_item.public_id if entry.plan_item is not None else ""
        stored = {"title": entry.title, "body": entry.body, "plan_item": attached}
        return _entry_page(entry, stored, {})
    return _save(entry)


def _delete_page(entry: JournalEntry, status: int = 200) -> ResponseReturnValue:
    page = render_template("planning/delete_entry.html", entry=entry, unconfirmed=status != 200)
    return page, status


@bp.get("/journal/<public_id>/delete")
@login_required(role=Role.STUDENT)
def confirm_delete_entry(public_id: str) -> ResponseReturnValue:
    """The confirmation step before deleting an entry."""
    return _delete_page(_own_entry(public_id))


@bp.post("/journal/<public_id>/delete")
@login_required(role=Role.STUDENT)
def delete_entry(public_id: str) -> ResponseReturnValue:
    """Delete the entry (and its recording) once confirmed; else the confirmation again."""
    entry = _own_entry(public_id)
    if request.form.get("confirm") != "yes":
        return _delete_page(entry, 422)
    title = entry.title
    service.delete_entry(entry)
    flash(_("Journal entry “%(title)s” deleted.", title=title), "success")
    return redirect(url_for(".journal"), 303)


#: The file name extension a downloaded recording gets, by its stored type.
_EXTENSIONS = {"audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/wav": "wav", "audio/mp4": "m4a"}


def _send_audio(entry: JournalEntry | None) -> ResponseReturnValue:
    if entry is None or not entry.audio_sha256:
        abort(404)
    blob = db.session.get(Blob, entry.audio_sha256)
    if blob is None:
        abort(404)
    extension = _EXTENSIONS.get(blob.media_type, "audio")
    return uploads.send_blob(blob, filename=f"{entry.title or 'journal'}.{extension}", inline=True)


@bp.get("/journal/<public_id>/audio")
@login_required(role=Role.STUDENT)
def entry_audio(public_id: str) -> ResponseReturnValue:
    """Her entry's recording, for her."""
    return _send_audio(service.find_entry(signed_in_user(), public_id))


# -- her readers -----------------------------------------------------------------------------


def _readable_learner(student_id: int) -> User:
    """The student whose plan the signed-in reader may read; 404 for anyone else (no hint that
    the student exists)."""
    student = service.learner(student_id)
    if student is None or not service.may_read(signed_in_user(), student):
        abort(404)
    return student


def _reader_page(
    student: User, errors: Mapping[str, str] | None = None, sent: Mapping[str, str] | None = None
) -> ResponseReturnValue:
    page = render_template(
        "planning/reader_plan.html",
        view=service.plan_view(student),
        student=student,
        errors=errors or {},
        sent=sent or {},
        **_progress_words(),
    )
    return page, 422 if errors else 200


@bp.get("/learners/<int:student_id>/plan")
@login_required()
def reader_plan(student_id: int) -> ResponseReturnValue:
    """Her plan, read only, with the journal entries attached to it and the comments, and a
    form to comment: for her school's assessors and administrators and her linked
    guardians.  She herself is sent to her own plan."""
    reader = signed_in_user()
    if reader.id == student_id and reader.role == Role.STUDENT:
        return redirect(url_for(".plan"))
    student = _readable_learner(student_id)
    if reader.role == Role.GUARDIAN:
        service.record_guardian_view(reader, student)
    return _reader_page(student)


@bp.post("/learners/<int:student_id>/plan/comments")
@login_required()
def comment(student_id: int) -> ResponseReturnValue:
    """A reader's comment on her plan or one item; she is told in the app."""
    student = _readable_learner(student_id)
    form = CommentForm()
    try:
        service.add_comment(
            student,
            signed_in_user(),
            form.body.data or "",
            item_public_id=form.item.data or None,
            link=url_for(".plan"),
        )
    except PlanError as error:
        sent = {"body": form.body.data or "", "item": form.item.data or ""}
        return _reader_page(student, {error.field or "body": str(error.message)}, sent)
    flash(_("Your comment is on %(name)s’s plan.", name=student.display_name), "success")
    return redirect(url_for(".reader_plan", student_id=student.id, _anchor="comments"), 303)


@bp.get("/learners/<int:student_id>/journal/<public_id>/audio")
@login_required()
def reader_audio(student_id: int, public_id: str) -> ResponseReturnValue:
    """The recording of a journal entry attached to her plan, for her readers."""
    student = _readable_learner(student_id)
    return _send_audio(service.shared_entry(student, public_id))
