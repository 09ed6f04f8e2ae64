"""Peer feedback pages (issue 17 §2): the peer's list of requests (``/peer-feedback``), one
request with the submission's evidence read-only and her comment (``/peer-feedback/<id>``);
the student asks and withdraws from her submission page, staff hide from the review page.

Only the peer asked reaches a request's page and its artefacts (anyone else: 404); artefacts are
served only when they belong to that submission's evidence.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role, User
from portfolio.assessment import peer_feedback as peers
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.forms import HideCommentForm, PeerAskForm, PeerCommentForm, sentence
from portfolio.assessment.models import PeerReview, Submission
from portfolio.assessment.review_pages import render_review
from portfolio.assessment.submission_pages import render_submission
from portfolio.core.db import db
from portfolio.core.errors import status_for
from portfolio.core.markdown import render_markdown
from portfolio.evidence.models import Artefact
from portfolio.evidence.pages import ARTEFACT_PARTS, serve_artefact

bp = Blueprint("peer", __name__)

STAFF = (Role.ASSESSOR, Role.ADMIN)


@bp.app_template_global()
def peer_request_count(user: User | None) -> int:
    """How many requests for comments were made to ``user`` (a student): the nav and the
    student home link to ``/peer-feedback`` when there are any."""
    if user is None or user.role != Role.STUDENT:
        return 0
    return peers.request_count(user)


def _review(public_id: str) -> PeerReview:
    review = peers.find_review(public_id)
    if review is None:
        abort(404)
    return review


def _mine_to_write(public_id: str) -> PeerReview:
    """A request made to the signed-in student (anything else reads as not there)."""
    review = _review(public_id)
    if review.peer_id != signed_in_user().id:
        abort(404)
    return review


def _artefact_url(review: PeerReview) -> Callable[..., str]:
    def url(artefact: Artefact, part: str = "file") -> str:
        return url_for(
            "peer.artefact", public_id=review.public_id, artefact_id=artefact.public_id, part=part
        )

    return url


@bp.get("/peer-feedback")
@login_required(role=Role.STUDENT)
def index() -> ResponseReturnValue:
    """The requests classmates made to me, unanswered first."""
    return render_template(
        "assessment/peer/index.html", reviews=peers.requests_for(signed_in_user())
    )


def _page(
    review: PeerReview, *, text: str | None = None, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    submission = review.submission
    page = render_template(
        "assessment/peer/show.html",
        review=review,
        submission=submission,
        narratives={
            item.evidence.id: render_markdown(item.evidence.narrative) for item in submission.items
        },
        artefact_url=_artefact_url(review),
        text=review.comment or "" if text is None else text,
        error=error,
    )
    return page, status


@bp.get("/peer-feedback/<public_id>")
@login_required(role=Role.STUDENT)
def show(public_id: str) -> ResponseReturnValue:
    """A request: the classmate's evidence, read only, and my comment."""
    return _page(_mine_to_write(public_id))


@bp.post("/peer-feedback/<public_id>")
@login_required(role=Role.STUDENT)
def comment(public_id: str) -> ResponseReturnValue:
    """Write or change my comment."""
    review = _mine_to_write(public_id)
    form = PeerCommentForm()
    try:
        peers.write_comment(review, signed_in_user(), form.comment.data or "")
    except AssessmentError as exc:
        db.session.rollback()
        return _page(
            _mine_to_write(public_id),
            text=form.comment.data or "",
            error=sentence(exc.message),
            status=status_for(exc),
        )
    flash(_("Your comment is saved: your classmate can read it."), "success")
    return redirect(url_for(".show", public_id=public_id), 303)


@bp.post("/peer-feedback/<public_id>/decline")
@login_required(role=Role.STUDENT)
def decline(public_id: str) -> ResponseReturnValue:
    """Decline a request (before commenting)."""
    review = _mine_to_write(public_id)
    try:
        peers.decline(review, signed_in_user())
    except AssessmentError as exc:
        db.session.rollback()
        return _page(_mine_to_write(public_id), error=sentence(exc.message), status=status_for(exc))
    flash(_("You declined the request."), "success")
    return redirect(url_for(".index"), 303)


@bp.get("/peer-feedback/<public_id>/artefacts/<artefact_id>", defaults={"part": "file"})
@bp.get("/peer-feedback/<public_id>/artefacts/<artefact_id>/<part>")
@login_required(role=Role.STUDENT)
def artefact(public_id: str, artefact_id: str, part: str) -> ResponseReturnValue:
    """An artefact of the submission's evidence, for the peer asked to comment on it."""
    review = _mine_to_write(public_id)
    if part not in ARTEFACT_PARTS:
        abort(404)
    for item in review.submission.items:
        for candidate in item.evidence.artefacts:
            if candidate.public_id == artefact_id:
                return serve_artefact(candidate, part)
    abort(404)


# -- the student's side (from her submission page) ---------------------------------------------


def _own_submission(public_id: str) -> Submission:
    submission: Submission | None = db.session.scalar(
        select(Submission).where(Submission.public_id == public_id)
    )
    if submission is None or submission.student_id != signed_in_user().id:
        abort(404)
    return submission


@bp.post("/submissions/<public_id>/peer-feedback")
@login_required(role=Role.STUDENT)
def ask(public_id: str) -> ResponseReturnValue:
    """Ask a classmate of my cohort for comments on my submission."""
    submission = _own_submission(public_id)
    student = signed_in_user()
    form = PeerAskForm()
    peer_id = form.peer_id()
    peer = db.session.get(User, peer_id) if peer_id is not None else None
    try:
        peers.ask_peer(submission, student, peer)
    except AssessmentError as exc:
        db.session.rollback()
        return render_submission(
            _own_submission(public_id), error=sentence(exc.message), status=status_for(exc)
        )
    assert peer is not None  # the service refused an unknown classmate  # noqa: S101
    flash(_("%(name)s is asked for comments.", name=peer.display_name), "success")
    return redirect(url_for("submissions.show", public_id=public_id, _anchor="peers-heading"), 303)


@bp.post("/peer-feedback/<public_id>/withdraw")
@login_required(role=Role.STUDENT)
def withdraw(public_id: str) -> ResponseReturnValue:
    """Withdraw a request of mine not answered yet."""
    review = _review(public_id)
    submission = review.submission
    if submission.student_id != signed_in_user().id:
        abort(404)
    try:
        peers.withdraw(review, signed_in_user())
    except AssessmentError as exc:
        db.session.rollback()
        return render_submission(
            _own_submission(submission.public_id),
            error=sentence(exc.message),
            status=status_for(exc),
        )
    flash(_("Your request is withdrawn."), "success")
    return redirect(
        url_for("submissions.show", public_id=submission.public_id, _anchor="peers-heading"), 303
    )


# -- staff -------------------------------------------------------------------------------------


@bp.post("/peer-feedback/<public_id>/hide")
@login_required(role=STAFF)
def hide(public_id: str) -> ResponseReturnValue:
    """Hide a classmate's comment, with the reason (staff of the school)."""
    review = _review(public_id)
    staff = signed_in_user()
    if not peers.is_staff_of(staff, review.submission):
        abort(404)
    submission_id = review.submission.public_id
    form = HideCommentForm()
    try:
        peers.hide(review, staff, form.reason.data or "")
    except AssessmentError as exc:
        db.session.rollback()
        again = peers.find_review(public_id)
        assert again is not None  # noqa: S101
        return render_review(
            again.submission,
            status=status_for(exc),
            peer_error=(public_id, sentence(exc.message)),
        )
    flash(_("The comment is hidden; the student and the peer see your reason."), "success")
    return redirect(url_for("review.show", public_id=submission_id, _anchor="peers-heading"), 303)
