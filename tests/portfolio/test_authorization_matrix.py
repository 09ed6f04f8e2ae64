"""The authorization matrix: every route of the app, asked by every kind of person, gets exactly
the answer written below — and a refused change leaves the database exactly as it was.

The people (columns of the matrix):

- ``anonymous``: nobody signed in;
- ``student``: Sam, who owns every object the URLs name (evidence, artefacts, portfolios,
  submissions, the credential);
- ``other_student``: Oli, a student of the same school;
- ``assessor``: Asa, an assessor of the same school;
- ``other_admin``: Otto, an administrator of *another* issuer;
- ``admin``: Ada, an administrator of the school;
- ``guardian``: Gus, Sam's linked guardian (issue 17 §3).

Gus's column was added after the others: his answer per route is in :data:`GUARDIAN` (and the
POST routes he may act on in :data:`GUARDIAN_MAY`) rather than in each row's tuple.

The matrix is data: one row per route (``"METHOD /rule"``, as in ``app.url_map``) with the
status each person gets.  A route added to the app without a row fails
:func:`test_every_route_has_a_row_in_the_matrix`, naming it.

GET rows are asked as they are.  For a POST row, every person not in ``allowed`` sends the
``attack`` form — what would change something if the route let them — and must get the status
in the matrix with the database unchanged.  The ``allowed`` people send the harmless ``safe``
form (usually an empty one: the route answers its validation error, which only a person past
the authorization checks can reach), or act on a throwaway object made by ``scratch`` when the
action destroys something.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

from portfolio.accounts import service as accounts
from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.accounts.models import LearnerProfile, User
from portfolio.assessment import service as assessment
from portfolio.assessment.models import PeerReview, Submission, SubmissionEvidence
from portfolio.catalogue.models import StackComponent
from portfolio.catalogue.service import new_framework, store_image
from portfolio.core.db import db
from portfolio.demo.evidence import sine_melody_wav
from portfolio.evidence.artefacts import add_file_artefact
from portfolio.evidence.models import Evidence
from portfolio.evidence.snapshots import snapshots_of
from portfolio.files import uploads
from portfolio.guardians.models import GuardianLink, PublicationConsent
from portfolio.issuing.models import TrustedIssuerRow
from portfolio.planning import service as planning
from portfolio.planning.models import PlanItem
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection
from portfolio.portfolios.service import new_share_slug
from tests.conftest import unsigned_badge
from tests.portfolio.school import PASSWORD, competency, evidence, make_school, person
from tests.portfolio.security_world import (
    changed_tables,
    client_with,
    module_app,
    png,
    session_cookie,
    snapshot,
)

ROLES = ("anonymous", "student", "other_student", "assessor", "other_admin", "admin")
SIGNED_IN = ROLES[1:]
#: Every person asked, Gus included (his answers are in GUARDIAN, not in the rows' tuples).
PEOPLE = (*ROLES, "guardian")
ADMINS = ("other_admin", "admin")
STUDENTS = ("student", "other_student")
#: What a refusal may look like: sign in (401 for a POST), not your role, or "no such thing".
REFUSALS = frozenset({401, 403, 404})
OTHER_ISSUER_DID = "did:web:credfolio.test:schools:other"
CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:01.000\nLa la la\n"


# -- the world: one school, another issuer, and Sam's objects --------------------------------


@dataclass
class World:
    """The app and the public ids of the objects the URLs name (Sam's unless said)."""

    app: Flask
    cookies: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.ids[name]
        except KeyError:
            raise AttributeError(name) from None


def _file(data: bytes, name: str, media_type: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=media_type)


def _portfolio(owner: User, evidence_item: Evidence, *, title: str) -> Portfolio:
    """A portfolio shared by link, with one section holding ``evidence_item``."""
    row = Portfolio(
        owner_id=owner.id,
        title=title,
        cover_text="",
        visibility="link",
        share_slug=new_share_slug(),
    )
    section = PortfolioSection(title="Songs", position=0)
    section.items.append(PortfolioItem(evidence=evidence_item, position=0))
    row.sections.append(section)
    db.session.add(row)
    db.session.commit()
    return row


def build_world(app: Flask) -> World:
    world = World(app=app)
    ids = world.ids
    with app.app_context():
        issuer = default_issuer()
        app.extensions["credfolio"].key_store.create(issuer.did)
        school = make_school(issuer)
        other = ensure_issuer(did=OTHER_ISSUER_DID, name="Other School", slug="other")
        other_admin = person(other, "admin", "Otto Otheradmin")
        foreign = competency(other, "Foreign")
        olis = evidence(school.other_student, "Oli's song")
        ids.update(foreign_competency=foreign.public_id, olis_lyrics=olis.artefacts[0].public_id)
        people = {
            "student": school.student,
            "other_student": school.other_student,
            "assessor": school.assessor,
            "other_admin": other_admin,
            "admin": school.admin,
            "guardian": person(issuer, "guardian", "Gus Guardian"),
        }
        db.session.add(
            GuardianLink(guardian_id=people["guardian"].id, student_id=school.student.id)
        )
        # A consent of Sam's stands (he is no minor: it gates nothing), so the withdrawal
        # pages have something to withdraw.
        db.session.add(
            PublicationConsent(
                student_id=school.student.id, given_as="guardian", given_by_id=people["guardian"].id
            )
        )
        db.session.commit()
        ids.update(
            sam_id=str(school.student.id),
            oli_id=str(school.other_student.id),
            gus_id=str(people["guardian"].id),
        )
        world.emails = {role: user.email for role, user in people.items()}

        # Sam's song: a text file (with captions), a link and an image (with a thumbnail).
        song = evidence(school.student, "My song")
        lyrics, link = song.artefacts
        lyrics.captions_vtt = CAPTIONS
        image = add_file_artefact(song, _file(png(), "cover.png", "image/png"), title="Cover")
        db.session.commit()
        story = evidence(school.student, "A story", genre="Short story")
        ids.update(
            issuer_slug=issuer.slug,
            evidence=song.public_id,
            evidence2=story.public_id,
            story_lyrics=story.artefacts[0].public_id,
            lyrics=lyrics.public_id,
            link=link.public_id,
            image=image.public_id,
        )

        # The catalogue: a framework, the competency with its image, a second one Sam has an
        # open submission for, a stack, an unused one and an archived one.
        framework = new_framework(issuer.id, title="Music")
        db.session.flush()
        school.competency.framework_id = framework.id
        image_blob = store_image(
            school.competency,
            _file(png(colour="navy"), "badge.png", "image/png"),
            uploader=school.admin,
        )
        db.session.commit()
        storytelling = competency(issuer, "Story telling")
        stack = competency(
            issuer, "Musician", rubric=False, is_stack=True, achievement_type="Badge"
        )
        db.session.add(StackComponent(stack_id=stack.id, component_id=storytelling.id))
        unused = competency(issuer, "Unused")
        archived = competency(issuer, "Archived", archived_at=datetime.now(UTC))
        ids.update(
            framework=framework.public_id,
            competency=school.competency.public_id,
            competency2=storytelling.public_id,
            stack=stack.public_id,
            unused=unused.public_id,
            archived=archived.public_id,
            image_sha256=image_blob.sha256,
        )

        # Sam's endorsed submission and its credential; an open one waiting for review.
        done = assessment.create_submission(
            school.student, school.competency, evidence_ids=[song.public_id], submit=True
        )
        assessment.assess(done, school.assessor, decision="endorse", levels=[2, 2])
        db.session.refresh(done)
        credential = done.credential
        assert credential is not None
        waiting = assessment.create_submission(
            school.student,
            storytelling,
            evidence_ids=[song.public_id, story.public_id],
            note="Please read it.",
            submit=True,
        )
        # The evidence frozen in the credential: its URLs name these copies.
        (frozen_song,) = snapshots_of(credential)
        frozen = {artefact.title: artefact.public_id for artefact in frozen_song.artefacts}
        ids.update(
            frozen_song=frozen_song.public_id,
            frozen_lyrics=frozen[lyrics.title],
            frozen_image=frozen[image.title],
        )
        ids.update(
            submission_done=done.public_id,
            submission=waiting.public_id,
            credential=credential.public_id,
            status_list=credential.revocation_list.public_id,
        )

        # Peer feedback (issue 17 §2): Sam is asked for comments on Oli's submission; on
        # Sam's open one, Pia commented and Quin has not answered yet.  (Rows made directly:
        # the cohort rule is the service's, tested in tests/portfolio/assessment.)
        storytelling.peer_reviewers = 2
        olis_submission = _peer_submission(school.other_student.id, school.competency.id)
        olis_submission.items.append(SubmissionEvidence(evidence_id=olis.id, position=0))
        olis.artefacts[0].captions_vtt = CAPTIONS
        pia = person(issuer, "student", "Pia Peer", cohort="7P")
        quin = person(issuer, "student", "Quin Quiet", cohort="7P")
        asked_sam = PeerReview(submission_id=olis_submission.id, peer_id=school.student.id)
        commented = PeerReview(
            submission_id=waiting.id,
            peer_id=pia.id,
            comment="A kind word",
            commented_at=datetime.now(UTC),
        )
        unanswered = PeerReview(submission_id=waiting.id, peer_id=quin.id)
        db.session.add_all([asked_sam, commented, unanswered])
        db.session.commit()
        ids.update(
            peer_review=asked_sam.public_id,
            peer_comment=commented.public_id,
            peer_request=unanswered.public_id,
            pia_id=str(pia.id),
        )

        # Sam's portfolio, shared by link; Sam's photo.
        shared = _portfolio(school.student, song, title="Songbook of Sam")
        section = shared.sections[0]
        ids.update(
            portfolio=shared.public_id,
            slug=shared.share_slug,
            section=str(section.id),
            item=str(section.items[0].id),
        )
        drafts = _portfolio(school.student, story, title="Drafts")
        ids.update(drafts_section=str(drafts.sections[0].id))
        # Sam's family book: private, shared with Sam's guardians (Gus reads it, read only).
        family_book = _portfolio(school.student, song, title="Sam's family book")
        family_book.visibility, family_book.share_slug = "private", None
        family_book.shared_with_guardians = True
        db.session.commit()
        ids.update(sam=str(school.student.id), family_book=family_book.public_id)
        photo = uploads.store_blob(_file(png(), "me.png", "image/png"), owner=school.student)
        db.session.add(LearnerProfile(user_id=school.student.id, photo_sha256=photo.sha256))

        # An open invitation of the school, and a password reset link of Oli's.
        invitation, token = accounts.new_invitation(
            email="new.student@school.test",
            name="New Student",
            role="student",
            issuer=issuer,
            invited_by=school.admin,
            now=datetime.now(UTC),
        )
        db.session.commit()
        ids.update(
            invitation=str(invitation.id),
            invitation_token=token,
            reset_token=accounts.reset_token(school.other_student),
        )
        # An entry of the trust list, added by the school's administrators.
        ids.update(trusted_issuer=_trusted_issuer(issuer.id, "did:web:partner.example"))
        # Sam's plan: an item, and a journal entry about it with a recording.
        plan_item = PlanItem(student_id=school.student.id, competency_id=unused.id, position=0)
        db.session.add(plan_item)
        db.session.commit()
        entry = planning.save_entry(
            school.student,
            planning.EntryValues(
                "Practice log",
                "Scales every day.",
                plan_item.public_id,
                _file(sine_melody_wav([(60, 0.1)], rate=8000), "hum.wav", "audio/wav"),
            ),
        )
        ids.update(
            sam_id=str(school.student.id),
            plan_item=plan_item.public_id,
            journal_entry=entry.public_id,
        )
    _bulk_job(world)  # made before any snapshot: the matrix's rows may run in any order
    world.cookies = {role: session_cookie(app, email) for role, email in world.emails.items()}
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with module_app(tmp_path_factory.mktemp("authz")) as app:
        yield build_world(app)


# -- throwaway objects for allowed destructive actions ---------------------------------------


def _sam() -> User:
    user = db.session.scalar(db.select(User).where(User.email == "sam.student@school.test"))
    assert user is not None
    return user


def scratch_evidence(world: World) -> dict[str, str]:
    with world.app.app_context():
        item = evidence(_sam(), "Scratch")
        return {"public_id": item.public_id, "artefact_id": item.artefacts[0].public_id}


def scratch_portfolio(world: World) -> dict[str, str]:
    with world.app.app_context():
        sam = _sam()
        row = _portfolio(sam, evidence(sam, "Scratch"), title="Scratch")
        section = row.sections[0]
        return {
            "public_id": row.public_id,
            "section_id": str(section.id),
            "item_id": str(section.items[0].id),
        }


def scratch_competency(world: World, *, archived: bool = False) -> dict[str, str]:
    with world.app.app_context():
        issuer = default_issuer()
        row = competency(
            issuer,
            "Scratch",
            rubric=False,
            archived_at=datetime.now(UTC) if archived else None,
        )
        return {"public_id": row.public_id}


def _peer_submission(student_id: int, competency_id: int) -> Submission:
    row = Submission(
        student_id=student_id,
        competency_id=competency_id,
        state="submitted",
        round=1,
        submitted_at=datetime.now(UTC),
    )
    db.session.add(row)
    db.session.commit()
    return row


def scratch_peer_request_to_sam(world: World) -> dict[str, str]:
    """A request to Sam for comments on a throwaway submission of Oli's (Sam declines it)."""
    with world.app.app_context():
        oli = db.session.scalar(db.select(User).where(User.email == world.emails["other_student"]))
        assert oli is not None
        row = _peer_submission(oli.id, competency(default_issuer(), "Scratch", rubric=False).id)
        review = PeerReview(submission_id=row.id, peer_id=_sam().id)
        db.session.add(review)
        db.session.commit()
        return {"public_id": review.public_id}


def scratch_peer_request_of_sam(world: World) -> dict[str, str]:
    """An unanswered request of Sam's, to a throwaway classmate (Sam withdraws it)."""
    with world.app.app_context():
        sam = _sam()
        issuer = default_issuer()
        peer = person(issuer, "student", f"Scratch Peer {datetime.now(UTC).timestamp()}")
        row = _peer_submission(sam.id, competency(default_issuer(), "Scratch", rubric=False).id)
        review = PeerReview(submission_id=row.id, peer_id=peer.id)
        db.session.add(review)
        db.session.commit()
        return {"public_id": review.public_id}


def scratch_peer_comment(world: World) -> dict[str, str]:
    """A comment on a throwaway submission of Sam's (staff hide it)."""
    with world.app.app_context():
        issuer = default_issuer()
        peer = person(issuer, "student", f"Scratch Commenter {datetime.now(UTC).timestamp()}")
        row = _peer_submission(_sam().id, competency(default_issuer(), "Scratch", rubric=False).id)
        review = PeerReview(
            submission_id=row.id, peer_id=peer.id, comment="Hm", commented_at=datetime.now(UTC)
        )
        db.session.add(review)
        db.session.commit()
        return {"public_id": review.public_id}


def scratch_invitation(world: World) -> dict[str, str]:
    with world.app.app_context():
        invitation, _token = accounts.new_invitation(
            email=f"scratch-{datetime.now(UTC).timestamp()}@school.test",
            name="Scratch",
            role="student",
            issuer=default_issuer(),
            invited_by=None,
            now=datetime.now(UTC),
        )
        db.session.commit()
        return {"invitation_id": str(invitation.id)}


def _trusted_issuer(issuer_id: int, did: str) -> str:
    entry = TrustedIssuerRow(did=did, name="Partner College", added_by_issuer_id=issuer_id)
    db.session.add(entry)
    db.session.commit()
    return str(entry.id)


def scratch_trusted_issuer(world: World) -> dict[str, str]:
    with world.app.app_context():
        did = f"did:web:scratch-{datetime.now(UTC).timestamp()}.example"
        return {"entry_id": _trusted_issuer(default_issuer().id, did)}


# -- the matrix ------------------------------------------------------------------------------

Expect = int | frozenset[int]
Snapshot = dict[str, list[str]]
Form = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One route: its URL values, the status per person (in :data:`ROLES` order) and, for a
    POST, who is allowed, what the others send (``attack``) and what the allowed send."""

    values: Callable[[World], dict[str, str]]
    expect: tuple[Expect, Expect, Expect, Expect, Expect, Expect]
    allowed: tuple[str, ...] = ()
    attack: Callable[[World], Form] | None = None
    safe: Callable[[World], Form] | None = None
    scratch: Callable[[World], dict[str, str]] | None = None
    json: bool = False
    #: The request signs the session out: use a session of its own.
    own_session: bool = False
    query: Callable[[World], dict[str, str]] | None = None


def none(_world: World) -> dict[str, str]:
    return {}


def of(**names: str) -> Callable[[World], dict[str, str]]:
    """URL values taken from the world: ``of(public_id="evidence")``."""
    return lambda world: {key: world.ids[name] for key, name in names.items()}


def form(**values: Any) -> Callable[[World], Form]:
    return lambda _world: dict(values)


def _rubric_form(_world: World) -> Form:
    return {
        "title": "Taken over",
        "level_count": "2",
        "criterion_count": "1",
        "level-0-name": "No",
        "level-0-points": "0",
        "level-1-name": "Yes",
        "level-1-points": "1",
        "criterion-0-name": "Obedience",
        "rule_kind": "min_level",
        "rule_level": "1",
        "action": "save",
    }


def _upload_form(_world: World) -> Form:
    return {"file_title": "Planted", "file": (io.BytesIO(b"planted"), "planted.txt")}


def _roster_form(_world: World) -> Form:
    csv = b"name,email,role\nEve Planted,eve.planted@school.test,assessor\n"
    return {"roster": (io.BytesIO(csv), "roster.csv")}


def _endorse_competency(world: World) -> Form:
    return {"competency": world.competency, "comment": "Planted endorsement"}


def _assess_form(_world: World) -> Form:
    return {"decision": "not_yet", "level-0": "0", "level-1": "0", "feedback": "Planted"}


def _cohort_endorsement(world: World) -> Form:
    return {
        "competency": world.competency2,
        "cohort": "7B",
        "level-0": "2",
        "level-1": "2",
        "action": "confirm",
        "confirm_count": "1",
    }


def _bulk_job(world: World) -> dict[str, str]:
    """A finished cohort endorsement started by Asa (made on first use, run at once)."""
    if "bulk_job" not in world.ids:
        from portfolio.bulk import jobs as bulk
        from portfolio.bulk.kinds import start_cohort_endorsement
        from portfolio.catalogue.models import Competency

        with world.app.app_context():
            asa = db.session.scalar(db.select(User).where(User.email == world.emails["assessor"]))
            song = db.session.scalar(
                db.select(Competency).where(Competency.public_id == world.competency)
            )
            job, _new = start_cohort_endorsement(asa, song, "7B", levels=[2, 2])
            bulk.run_job(job.id)
            world.ids["bulk_job"] = job.public_id
    return {"public_id": world.ids["bulk_job"]}


def _submission_form(world: World) -> Form:
    # Sam's evidence for a competency: another student must not be able to submit it.
    return {"competency": world.unused, "evidence": [world.evidence], "action": "submit"}


def _update_submission(world: World) -> Form:
    return {"evidence": [world.evidence2], "note": "Planted", "action": "submit"}


#: Columns: anonymous, student (Sam, the owner), other_student, assessor, other_admin, admin.
#: 200 the page; 302 (GET) or 401 (POST) "sign in first"; 403 "not for your role"; 404 "no
#: such thing" (someone else's object looks exactly like a missing one); 303 done; 400, 409 and
#: 422 what the route says about the form once it has let the person in.
MATRIX: dict[str, Row] = {
    # -- home, sign-in, accounts -------------------------------------------------------------
    # Signed in, home sends each role to its own home (accounts.sign_in_pages.ROLE_HOMES).
    "GET /": Row(none, (200, 302, 302, 302, 302, 302)),
    "GET /sign-in": Row(none, (200, 200, 200, 200, 200, 200)),
    "POST /sign-in": Row(none, (422, 422, 422, 422, 422, 422), allowed=ROLES),
    "POST /sign-out": Row(none, (303, 303, 303, 303, 303, 303), allowed=ROLES, own_session=True),
    "GET /sign-out-everywhere": Row(none, (302, 200, 200, 200, 200, 200)),
    # Without the confirmation box nothing happens (422): the matrix never signs anyone out.
    "POST /sign-out-everywhere": Row(none, (401, 422, 422, 422, 422, 422), allowed=SIGNED_IN),
    "GET /password/forgot": Row(none, (200, 200, 200, 200, 200, 200)),
    "POST /password/forgot": Row(none, (422, 422, 422, 422, 422, 422), allowed=ROLES),
    "GET /password/reset/<token>": Row(of(token="reset_token"), (200, 200, 200, 200, 200, 200)),
    "POST /password/reset/<token>": Row(
        of(token="reset_token"), (422, 422, 422, 422, 422, 422), allowed=ROLES
    ),
    "GET /join/<token>": Row(of(token="invitation_token"), (200, 200, 200, 200, 200, 200)),
    "POST /join/<token>": Row(
        of(token="invitation_token"), (422, 422, 422, 422, 422, 422), allowed=ROLES
    ),
    "GET /profile": Row(none, (302, 200, 200, 200, 200, 200)),
    "POST /profile": Row(
        none,
        (401, 303, 303, 303, 303, 303),
        allowed=SIGNED_IN,
        attack=form(display_name="Planted"),
    ),
    "GET /profile/photo": Row(none, (302, 200, 404, 404, 404, 404)),
    # A student's own data: the export of everything, and deleting the account.
    "GET /profile/export": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /profile/delete": Row(none, (302, 200, 200, 403, 403, 403)),
    "POST /profile/delete": Row(
        none,
        (401, 422, 422, 403, 403, 403),
        allowed=STUDENTS,
        attack=form(password=PASSWORD),
    ),
    "GET /admin/invitations": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/invitations": Row(
        none,
        (401, 403, 403, 403, 422, 422),
        allowed=ADMINS,
        attack=form(email="planted@school.test", name="Planted", role="assessor"),
    ),
    "POST /admin/invitations/<invitation_id>/revoke": Row(
        of(invitation_id="invitation"),
        (401, 403, 403, 403, 404, 303),
        allowed=("admin",),
        scratch=scratch_invitation,
    ),
    "GET /admin/roster": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/roster": Row(
        none, (401, 403, 403, 403, 422, 422), allowed=ADMINS, attack=_roster_form
    ),
    # -- administration of issued credentials ------------------------------------------------
    "GET /admin/": Row(none, (302, 403, 403, 403, 200, 200)),
    "GET /admin/credentials": Row(none, (302, 403, 403, 403, 200, 200)),
    "GET /admin/credentials/<public_id>": Row(
        of(public_id="credential"), (302, 403, 403, 403, 404, 200)
    ),
    "GET /admin/credentials/<public_id>/revoke": Row(
        of(public_id="credential"), (302, 403, 403, 403, 404, 200)
    ),
    "POST /admin/credentials/<public_id>/revoke": Row(
        of(public_id="credential"),
        (401, 403, 403, 403, 404, 422),
        allowed=("admin",),
        attack=form(reason="Planted", confirm="y"),
    ),
    "POST /admin/credentials/<public_id>/suspend": Row(
        of(public_id="credential"),
        (401, 403, 403, 403, 404, 422),
        allowed=("admin",),
        attack=form(**{"suspend-reason": "Planted"}),
    ),
    "POST /admin/credentials/<public_id>/unsuspend": Row(
        of(public_id="credential"), (401, 403, 403, 403, 404, 409), allowed=("admin",)
    ),
    # -- trust and privacy (the trust list is the service's; each school removes its own) ----
    "GET /admin/trust": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/trust/issuers": Row(
        none,
        (401, 403, 403, 403, 422, 422),
        allowed=ADMINS,
        attack=form(did="did:web:planted.example", name="Planted"),
    ),
    "POST /admin/trust/issuers/<int:entry_id>/remove": Row(
        of(entry_id="trusted_issuer"),
        (401, 403, 403, 403, 404, 303),
        allowed=("admin",),
        scratch=scratch_trusted_issuer,
    ),
    "POST /admin/trust/recipient-identity": Row(
        none,
        (401, 403, 403, 403, 422, 422),
        allowed=ADMINS,
        attack=form(recipient_identity="name"),
    ),
    # -- the issuer page: each administrator sees and changes only their own issuer ----------
    "GET /admin/issuer": Row(none, (302, 403, 403, 403, 200, 200)),
    # Early signals (issue 17 §4): each school's own thresholds, set by its administrators.
    "GET /admin/signals": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/signals": Row(
        none,
        (401, 403, 403, 403, 422, 422),
        allowed=ADMINS,
        attack=form(quiet_days="1", revision_rounds="1", calibration_gap="1"),
        safe=form(quiet_days="0"),
    ),
    "POST /admin/issuer/profile": Row(
        none,
        (401, 403, 403, 403, 303, 303),
        allowed=ADMINS,
        attack=form(name="Planted School", url="https://planted.example/"),
        safe=form(name="Matrix School"),
    ),
    "POST /admin/issuer/status": Row(
        none,
        (401, 403, 403, 403, 303, 303),
        allowed=ADMINS,
        attack=form(offers_suspension="y"),
    ),
    # -- the audit log (each administrator reads their own issuer's) --------------------------
    "GET /admin/audit": Row(none, (302, 403, 403, 403, 200, 200)),
    "GET /admin/audit.csv": Row(none, (302, 403, 403, 403, 200, 200)),
    "GET /admin/audit.json": Row(none, (302, 403, 403, 403, 200, 200)),
    # -- the competency catalogue -----------------------------------------------------------
    "GET /admin/catalogue": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/catalogue/frameworks": Row(
        none, (401, 403, 403, 403, 422, 422), allowed=ADMINS, attack=form(title="Planted")
    ),
    "GET /admin/catalogue/new": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/catalogue/new": Row(
        none,
        (401, 403, 403, 403, 422, 422),
        allowed=ADMINS,
        attack=form(
            name="Planted",
            description="Planted",
            achievement_type="Competency",
            required_endorsements="1",
        ),
    ),
    "GET /admin/catalogue/competencies/<public_id>": Row(
        of(public_id="competency"), (302, 403, 403, 403, 404, 200)
    ),
    "GET /admin/catalogue/competencies/<public_id>/edit": Row(
        of(public_id="competency"), (302, 403, 403, 403, 404, 200)
    ),
    "POST /admin/catalogue/competencies/<public_id>/edit": Row(
        of(public_id="competency"),
        (401, 403, 403, 403, 404, 422),
        allowed=("admin",),
        attack=form(
            name="Planted",
            description="Planted",
            achievement_type="Competency",
            required_endorsements="1",
        ),
    ),
    "POST /admin/catalogue/competencies/<public_id>/image": Row(
        of(public_id="competency"),
        (401, 403, 403, 403, 404, 400),
        allowed=("admin",),
        attack=form(action="remove"),
        safe=form(action="nothing"),
    ),
    "POST /admin/catalogue/competencies/<public_id>/archive": Row(
        of(public_id="competency"),
        (401, 403, 403, 403, 404, 303),
        allowed=("admin",),
        scratch=scratch_competency,
    ),
    "POST /admin/catalogue/competencies/<public_id>/unarchive": Row(
        of(public_id="archived"),
        (401, 403, 403, 403, 404, 303),
        allowed=("admin",),
        scratch=lambda world: scratch_competency(world, archived=True),
    ),
    "POST /admin/catalogue/competencies/<public_id>/delete": Row(
        of(public_id="unused"),
        (401, 403, 403, 403, 404, 303),
        allowed=("admin",),
        scratch=scratch_competency,
    ),
    "GET /admin/catalogue/competencies/<public_id>/prerequisites": Row(
        of(public_id="competency"), (302, 403, 403, 403, 404, 200)
    ),
    "POST /admin/catalogue/competencies/<public_id>/prerequisites": Row(
        of(public_id="competency2"),
        (401, 403, 403, 403, 404, 303),
        allowed=("admin",),
        attack=lambda world: {"chosen": [world.unused]},
    ),
    "GET /admin/catalogue/competencies/<public_id>/components": Row(
        of(public_id="stack"), (302, 403, 403, 403, 404, 200)
    ),
    "POST /admin/catalogue/competencies/<public_id>/components": Row(
        of(public_id="stack"),
        (401, 403, 403, 403, 404, 303),
        allowed=("admin",),
        attack=lambda world: {"chosen": [world.unused]},
        safe=lambda world: {"chosen": [world.competency2]},
    ),
    "GET /admin/catalogue/competencies/<public_id>/rubric": Row(
        of(public_id="competency"), (302, 403, 403, 403, 404, 200)
    ),
    "POST /admin/catalogue/competencies/<public_id>/rubric": Row(
        of(public_id="competency"),
        (401, 403, 403, 403, 404, 200),
        allowed=("admin",),
        attack=_rubric_form,
        safe=form(action="add-level"),
    ),
    "GET /admin/catalogue/competencies/<public_id>/rubric/versions/<int:version>": Row(
        lambda world: {"public_id": world.competency, "version": "1"},
        (302, 403, 403, 403, 404, 200),
    ),
    "GET /admin/catalogue/import/case": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/catalogue/import/case": Row(none, (401, 403, 403, 403, 422, 422), allowed=ADMINS),
    "GET /admin/catalogue/frameworks/<public_id>/case.json": Row(
        of(public_id="framework"), (302, 403, 403, 403, 404, 200)
    ),
    "GET /admin/catalogue/import/csv": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/catalogue/import/csv": Row(none, (401, 403, 403, 403, 422, 422), allowed=ADMINS),
    "GET /admin/catalogue/catalogue.csv": Row(none, (302, 403, 403, 403, 200, 200)),
    "GET /achievements/<public_id>/image": Row(
        of(public_id="competency"),
        (200, 200, 200, 200, 200, 200),
        query=lambda world: {"v": world.image_sha256},
    ),
    # -- evidence ---------------------------------------------------------------------------
    "GET /evidence": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /evidence/new": Row(none, (302, 200, 200, 403, 403, 403)),
    "POST /evidence/new": Row(
        none, (401, 422, 422, 403, 403, 403), allowed=STUDENTS, attack=form(title="Planted")
    ),
    "GET /evidence/<public_id>": Row(of(public_id="evidence"), (302, 200, 404, 403, 403, 403)),
    "GET /evidence/<public_id>/edit": Row(of(public_id="evidence"), (302, 200, 404, 403, 403, 403)),
    "POST /evidence/<public_id>/edit": Row(
        of(public_id="evidence"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(title="Planted", narrative="Planted"),
    ),
    "GET /evidence/<public_id>/delete": Row(
        of(public_id="evidence"), (302, 200, 404, 403, 403, 403)
    ),
    "POST /evidence/<public_id>/delete": Row(
        of(public_id="evidence"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(confirm="yes"),
        safe=form(confirm="yes"),
        scratch=scratch_evidence,
    ),
    "POST /evidence/<public_id>/artefacts/file": Row(
        of(public_id="evidence"),
        (401, 400, 404, 403, 403, 403),
        allowed=("student",),
        attack=_upload_form,
    ),
    "POST /evidence/<public_id>/artefacts/link": Row(
        of(public_id="evidence"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(link_title="Planted", url="https://planted.example/"),
    ),
    "POST /evidence/<public_id>/artefacts/<artefact_id>/delete": Row(
        of(public_id="evidence", artefact_id="link"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        scratch=scratch_evidence,
    ),
    "POST /evidence/<public_id>/artefacts/<artefact_id>/move": Row(
        of(public_id="evidence", artefact_id="lyrics"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(direction="down"),
        safe=form(direction="nowhere"),
    ),
    "GET /artefacts/<public_id>": Row(of(public_id="lyrics"), (302, 200, 404, 403, 403, 403)),
    "GET /artefacts/<public_id>/thumbnail": Row(
        of(public_id="image"), (302, 200, 404, 403, 403, 403)
    ),
    "GET /artefacts/<public_id>/captions.vtt": Row(
        of(public_id="lyrics"), (302, 200, 404, 403, 403, 403)
    ),
    # -- portfolios -------------------------------------------------------------------------
    "GET /portfolios": Row(none, (302, 200, 200, 403, 403, 403)),
    "POST /portfolios": Row(
        none, (401, 422, 422, 403, 403, 403), allowed=STUDENTS, attack=form(title="Planted")
    ),
    "GET /portfolios/<public_id>/edit": Row(
        of(public_id="portfolio"), (302, 200, 404, 403, 403, 403)
    ),
    "POST /portfolios/<public_id>/details": Row(
        of(public_id="portfolio"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(title="Planted", cover_text="Planted"),
    ),
    "POST /portfolios/<public_id>/visibility": Row(
        of(public_id="portfolio"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(visibility="public"),
    ),
    "POST /portfolios/<public_id>/guardians": Row(
        of(public_id="portfolio"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(shared_with_guardians="1"),
        scratch=scratch_portfolio,
    ),
    "POST /portfolios/<public_id>/revoke-link": Row(
        of(public_id="portfolio"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        scratch=scratch_portfolio,
    ),
    "POST /portfolios/<public_id>/delete": Row(
        of(public_id="portfolio"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        scratch=scratch_portfolio,
    ),
    "POST /portfolios/<public_id>/sections": Row(
        of(public_id="portfolio"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(section_title="Planted"),
    ),
    "POST /portfolios/<public_id>/sections/<section_id>/rename": Row(
        of(public_id="portfolio", section_id="section"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(title="Planted"),
    ),
    "POST /portfolios/<public_id>/sections/<section_id>/move": Row(
        of(public_id="portfolio", section_id="section"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(direction="down"),
        safe=form(direction="nowhere"),
    ),
    "POST /portfolios/<public_id>/sections/<section_id>/delete": Row(
        of(public_id="portfolio", section_id="section"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        scratch=scratch_portfolio,
    ),
    "POST /portfolios/<public_id>/sections/<section_id>/items": Row(
        of(public_id="portfolio", section_id="section"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=lambda world: {"evidence": world.evidence2},
    ),
    "POST /portfolios/<public_id>/items/<item_id>/move": Row(
        of(public_id="portfolio", item_id="item"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(direction="up"),
        safe=form(direction="nowhere"),
    ),
    "POST /portfolios/<public_id>/items/<item_id>/delete": Row(
        of(public_id="portfolio", item_id="item"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        scratch=scratch_portfolio,
    ),
    # Shared by link: the page without the link is its owner's preview only.
    "GET /portfolios/<public_id>": Row(of(public_id="portfolio"), (404, 200, 404, 404, 404, 404)),
    "GET /portfolios/<public_id>/artefacts/<artefact_id>": Row(
        of(public_id="portfolio", artefact_id="lyrics"), (404, 200, 404, 404, 404, 404)
    ),
    "GET /portfolios/<public_id>/artefacts/<artefact_id>/<part>": Row(
        lambda world: {
            "public_id": world.portfolio,
            "artefact_id": world.image,
            "part": "thumbnail",
        },
        (404, 200, 404, 404, 404, 404),
    ),
    "GET /p/<slug>": Row(of(slug="slug"), (200, 200, 200, 200, 200, 200)),
    "GET /p/<slug>/artefacts/<artefact_id>": Row(
        of(slug="slug", artefact_id="lyrics"), (200, 200, 200, 200, 200, 200)
    ),
    "GET /p/<slug>/artefacts/<artefact_id>/<part>": Row(
        lambda world: {"slug": world.slug, "artefact_id": world.lyrics, "part": "captions.vtt"},
        (200, 200, 200, 200, 200, 200),
    ),
    "GET /portfolios/<public_id>/export.pdf": Row(
        of(public_id="portfolio"), (302, 200, 404, 403, 403, 403)
    ),
    "GET /portfolios/<public_id>/export.zip": Row(
        of(public_id="portfolio"), (302, 200, 404, 403, 403, 403)
    ),
    # -- submissions and review -------------------------------------------------------------
    "GET /submissions": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /submissions/new": Row(none, (302, 200, 200, 403, 403, 403)),
    "POST /submissions/new": Row(
        none,
        (401, 422, 422, 403, 403, 403),
        allowed=("student",),
        attack=_submission_form,
    ),
    "GET /submissions/<public_id>": Row(of(public_id="submission"), (302, 200, 404, 403, 403, 403)),
    "POST /submissions/<public_id>": Row(
        of(public_id="submission"),
        (401, 409, 404, 403, 403, 403),
        allowed=("student",),
        attack=_update_submission,
    ),
    # -- self-assessment and peer feedback (issue 17 §2) ------------------------------------
    "GET /submissions/<public_id>/self-assessment": Row(
        of(public_id="submission"), (302, 200, 404, 403, 403, 403)
    ),
    # Sam's submission is submitted: his rating is frozen (409).
    "POST /submissions/<public_id>/self-assessment": Row(
        of(public_id="submission"),
        (401, 409, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(**{"level-0": "0", "level-1": "0"}),
    ),
    "POST /submissions/<public_id>/peer-feedback": Row(
        of(public_id="submission"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=lambda world: {"peer": world.pia_id},
    ),
    "GET /peer-feedback": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /peer-feedback/<public_id>": Row(
        of(public_id="peer_review"), (302, 200, 404, 403, 403, 403)
    ),
    "POST /peer-feedback/<public_id>": Row(
        of(public_id="peer_review"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(comment="Planted"),
    ),
    "POST /peer-feedback/<public_id>/decline": Row(
        of(public_id="peer_review"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        scratch=scratch_peer_request_to_sam,
    ),
    "POST /peer-feedback/<public_id>/withdraw": Row(
        of(public_id="peer_request"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        scratch=scratch_peer_request_of_sam,
    ),
    "POST /peer-feedback/<public_id>/hide": Row(
        of(public_id="peer_comment"),
        (401, 403, 403, 422, 404, 422),
        allowed=("assessor", "admin"),
        attack=form(reason="Planted"),
    ),
    "GET /peer-feedback/<public_id>/artefacts/<artefact_id>": Row(
        of(public_id="peer_review", artefact_id="olis_lyrics"), (302, 200, 404, 403, 403, 403)
    ),
    "GET /peer-feedback/<public_id>/artefacts/<artefact_id>/<part>": Row(
        lambda world: {
            "public_id": world.peer_review,
            "artefact_id": world.olis_lyrics,
            "part": "captions",
        },
        (302, 200, 404, 403, 403, 403),
    ),
    "GET /review": Row(none, (302, 403, 403, 200, 200, 200)),
    "GET /review/<public_id>": Row(of(public_id="submission"), (302, 403, 403, 200, 404, 200)),
    "POST /review/<public_id>/start": Row(
        of(public_id="submission"),
        (401, 403, 403, 303, 404, 303),
        allowed=("assessor", "admin"),
    ),
    "POST /review/<public_id>/assess": Row(
        of(public_id="submission"),
        (401, 403, 403, 422, 404, 422),
        allowed=("assessor", "admin"),
        attack=_assess_form,
    ),
    "GET /review/<public_id>/artefacts/<artefact_id>": Row(
        of(public_id="submission", artefact_id="lyrics"), (302, 403, 403, 200, 404, 200)
    ),
    "GET /review/<public_id>/artefacts/<artefact_id>/<part>": Row(
        lambda world: {
            "public_id": world.submission,
            "artefact_id": world.image,
            "part": "thumbnail",
        },
        (302, 403, 403, 200, 404, 200),
    ),
    "GET /review/endorse": Row(none, (302, 403, 403, 200, 200, 200)),
    # Another issuer's administrator may endorse their own competencies, not this school's.
    "POST /review/endorse": Row(
        none,
        (401, 403, 403, 422, 422, 422),
        allowed=("assessor", "admin"),
        attack=_endorse_competency,
        safe=form(competency=""),
    ),
    # -- bulk work: another issuer's administrator cannot name this school's competency -----
    "GET /review/cohort-endorse": Row(none, (302, 403, 403, 200, 200, 200)),
    "POST /review/cohort-endorse": Row(
        none,
        (401, 403, 403, 422, 422, 422),
        allowed=("assessor", "admin"),
        attack=_cohort_endorsement,
        safe=form(competency=""),
    ),
    "GET /jobs": Row(none, (302, 403, 403, 200, 200, 200)),
    "GET /jobs/<public_id>": Row(_bulk_job, (302, 403, 403, 200, 404, 200)),
    "GET /jobs/<public_id>/results.csv": Row(_bulk_job, (302, 403, 403, 200, 404, 200)),
    # The job is done: the allowed are told there is nothing to cancel.
    "POST /jobs/<public_id>/cancel": Row(
        _bulk_job, (401, 403, 403, 303, 404, 303), allowed=("assessor", "admin")
    ),
    # -- learner pages ----------------------------------------------------------------------
    "GET /notifications": Row(none, (302, 200, 200, 200, 200, 200)),
    "POST /notifications/read": Row(none, (401, 303, 303, 303, 303, 303), allowed=SIGNED_IN),
    "GET /my/credentials": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /home": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /my/credentials/<public_id>/qr.svg": Row(
        of(public_id="credential"), (302, 200, 404, 403, 403, 403)
    ),
    "POST /my/credentials/<public_id>/visibility": Row(
        of(public_id="credential"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(hidden="1"),
        safe=form(hidden="0"),
    ),
    "GET /my/credentials/evidence": Row(none, (302, 200, 200, 403, 403, 403)),
    "POST /my/credentials/<public_id>/evidence/visibility": Row(
        of(public_id="credential"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(withdrawn="1"),
        safe=form(withdrawn="0"),
    ),
    "POST /my/credentials/<public_id>/evidence/delete": Row(
        of(public_id="credential"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(confirm="yes"),
        safe=form(),
    ),
    "POST /my/credentials/<public_id>/revocation-request": Row(
        of(public_id="credential"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(reason="Planted"),
        safe=form(reason=""),
    ),
    "GET /progress": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /progress/chart.svg": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /cohort": Row(none, (302, 403, 403, 200, 200, 200)),
    "GET /cohort.csv": Row(none, (302, 403, 403, 200, 200, 200)),
    # -- the learning plan and the journal (portfolio/planning/) -----------------------------
    "GET /plan": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /plan/choose": Row(none, (302, 200, 200, 403, 403, 403)),
    "POST /plan/choose": Row(
        none,
        (401, 422, 422, 403, 403, 403),
        allowed=STUDENTS,
        attack=lambda world: {"chosen": [world.competency2]},
    ),
    "GET /plan/items/<public_id>/edit": Row(
        of(public_id="plan_item"), (302, 200, 404, 403, 403, 403)
    ),
    "POST /plan/items/<public_id>/edit": Row(
        of(public_id="plan_item"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(target_date="", milestones="Planted"),
        safe=form(target_date="not a date"),
    ),
    "POST /plan/items/<public_id>/move": Row(
        of(public_id="plan_item"),
        (401, 303, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(direction="down"),
        safe=form(direction="sideways"),
    ),
    "GET /plan/items/<public_id>/remove": Row(
        of(public_id="plan_item"), (302, 200, 404, 403, 403, 403)
    ),
    "POST /plan/items/<public_id>/remove": Row(
        of(public_id="plan_item"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(confirm="yes"),
    ),
    "GET /journal": Row(none, (302, 200, 200, 403, 403, 403)),
    "GET /journal/new": Row(none, (302, 200, 200, 403, 403, 403)),
    "POST /journal/new": Row(
        none,
        (401, 422, 422, 403, 403, 403),
        allowed=STUDENTS,
        attack=form(title="Planted", body="Planted"),
    ),
    "GET /journal/<public_id>/edit": Row(
        of(public_id="journal_entry"), (302, 200, 404, 403, 403, 403)
    ),
    "POST /journal/<public_id>/edit": Row(
        of(public_id="journal_entry"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(title="Planted", body="Planted"),
        safe=form(title=""),
    ),
    "GET /journal/<public_id>/delete": Row(
        of(public_id="journal_entry"), (302, 200, 404, 403, 403, 403)
    ),
    "POST /journal/<public_id>/delete": Row(
        of(public_id="journal_entry"),
        (401, 422, 404, 403, 403, 403),
        allowed=("student",),
        attack=form(confirm="yes"),
    ),
    "GET /journal/<public_id>/audio": Row(
        of(public_id="journal_entry"), (302, 200, 404, 403, 403, 403)
    ),
    # Her readers: her school's staff and her linked guardians (Gus); Sam is sent to /plan.
    "GET /learners/<int:student_id>/plan": Row(
        of(student_id="sam_id"), (302, 302, 404, 200, 404, 200)
    ),
    "POST /learners/<int:student_id>/plan/comments": Row(
        of(student_id="sam_id"),
        (401, 404, 404, 422, 404, 422),
        allowed=("assessor", "admin"),
        attack=form(body="Planted"),
    ),
    "GET /learners/<int:student_id>/journal/<public_id>/audio": Row(
        of(student_id="sam_id", public_id="journal_entry"), (302, 404, 404, 200, 404, 200)
    ),
    # -- public credential pages and downloads ----------------------------------------------
    "GET /c/<public_id>": Row(of(public_id="credential"), (200, 200, 200, 200, 200, 200)),
    "GET /c/<public_id>/credential.json": Row(
        of(public_id="credential"), (200, 200, 200, 200, 200, 200)
    ),
    "GET /c/<public_id>/badge.svg": Row(of(public_id="credential"), (200, 200, 200, 200, 200, 200)),
    "GET /c/<public_id>/badge.png": Row(of(public_id="credential"), (200, 200, 200, 200, 200, 200)),
    "GET /c/<public_id>/certificate.pdf": Row(
        of(public_id="credential"), (200, 200, 200, 200, 200, 200)
    ),
    "GET /c/<public_id>/evidence/<evidence_id>": Row(
        of(public_id="credential", evidence_id="frozen_song"), (200, 200, 200, 200, 200, 200)
    ),
    "GET /c/<public_id>/evidence/<evidence_id>/artefacts/<artefact_id>": Row(
        of(public_id="credential", evidence_id="frozen_song", artefact_id="frozen_lyrics"),
        (200, 200, 200, 200, 200, 200),
    ),
    "GET /c/<public_id>/evidence/<evidence_id>/artefacts/<artefact_id>/<part>": Row(
        lambda world: {
            "public_id": world.credential,
            "evidence_id": world.frozen_song,
            "artefact_id": world.frozen_lyrics,
            "part": "captions",
        },
        (200, 200, 200, 200, 200, 200),
    ),
    "GET /verify": Row(none, (200, 200, 200, 200, 200, 200)),
    "POST /verify": Row(none, (400, 400, 400, 400, 400, 400), allowed=ROLES),
    # -- JSON: public documents and the VC-API -----------------------------------------------
    "GET /.well-known/did.json": Row(none, (200, 200, 200, 200, 200, 200)),
    "GET /<path:path>/did.json": Row(
        lambda _world: {"path": "schools/other"}, (200, 200, 200, 200, 200, 200)
    ),
    "GET /issuers/<slug>": Row(of(slug="issuer_slug"), (200, 200, 200, 200, 200, 200)),
    "GET /achievements/<public_id>": Row(
        of(public_id="competency"), (200, 200, 200, 200, 200, 200)
    ),
    "GET /status/<public_id>": Row(of(public_id="status_list"), (200, 200, 200, 200, 200, 200)),
    "GET /api/openapi.json": Row(none, (200, 200, 200, 200, 200, 200)),
    # Operations (portfolio/operations/api.py, portfolio/core/metrics.py): the same for everyone.
    # The world's
    # tables come from create_all, not the migrations: /readyz says so with a 503.  The test
    # client is a loopback client, which may read /metrics.
    "GET /healthz": Row(none, (200, 200, 200, 200, 200, 200)),
    "GET /readyz": Row(none, (503, 503, 503, 503, 503, 503)),
    "GET /metrics": Row(none, (200, 200, 200, 200, 200, 200)),
    "POST /oauth/token": Row(none, (400, 400, 400, 400, 400, 400), allowed=ROLES),
    # A session cookie is no bearer token: nobody issues through the API without one.
    "POST /credentials/issue": Row(
        none,
        (401, 401, 401, 401, 401, 401),
        attack=lambda _world: {"credential": unsigned_badge()},
        json=True,
    ),
    "POST /credentials/verify": Row(none, (400, 400, 400, 400, 400, 400), allowed=ROLES, json=True),
    "POST /presentations/verify": Row(
        none, (400, 400, 400, 400, 400, 400), allowed=ROLES, json=True
    ),
    # -- the family pages (issue 17 §3): only a linked guardian; Gus is Sam's -----------------
    "GET /family": Row(none, (302, 403, 403, 403, 403, 403)),
    "GET /family/students/<int:student_id>": Row(
        of(student_id="sam"), (302, 403, 403, 403, 403, 403)
    ),
    "GET /family/students/<int:student_id>/progress": Row(
        of(student_id="sam"), (302, 403, 403, 403, 403, 403)
    ),
    "GET /family/students/<int:student_id>/feedback": Row(
        of(student_id="sam"), (302, 403, 403, 403, 403, 403)
    ),
    "GET /family/students/<int:student_id>/portfolios/<public_id>": Row(
        of(student_id="sam", public_id="family_book"), (302, 403, 403, 403, 403, 403)
    ),
    "GET /family/students/<int:student_id>/portfolios/<public_id>/artefacts/<artefact_id>": Row(
        of(student_id="sam", public_id="family_book", artefact_id="lyrics"),
        (302, 403, 403, 403, 403, 403),
    ),
    "GET /family/students/<int:student_id>/portfolios/<public_id>/artefacts/<artefact_id>/<part>": (
        Row(
            lambda world: {
                "student_id": world.sam,
                "public_id": world.family_book,
                "artefact_id": world.image,
                "part": "thumbnail",
            },
            (302, 403, 403, 403, 403, 403),
        )
    ),
    # -- guardians and consent (issue 17 §3) -------------------------------------------------
    "GET /admin/guardians": Row(none, (302, 403, 403, 403, 200, 200)),
    # Otto's school has no Sam: his invitation names no student of his, so it is refused.
    "POST /admin/guardians": Row(
        none,
        (401, 403, 403, 403, 422, 422),
        allowed=ADMINS,
        attack=lambda world: {
            "email": "planted.guardian@school.test",
            "name": "Planted",
            "students": [world.sam_id],
        },
    ),
    "POST /admin/guardians/<int:guardian_id>/links": Row(
        of(guardian_id="gus_id"),
        (401, 403, 403, 403, 404, 303),
        allowed=("admin",),
        attack=lambda world: {"student": world.oli_id},
    ),
    "GET /admin/guardians/<int:guardian_id>/students/<int:student_id>/unlink": Row(
        of(guardian_id="gus_id", student_id="sam_id"), (302, 403, 403, 403, 404, 200)
    ),
    "POST /admin/guardians/<int:guardian_id>/students/<int:student_id>/unlink": Row(
        of(guardian_id="gus_id", student_id="sam_id"),
        (401, 403, 403, 403, 404, 422),
        allowed=("admin",),
        attack=form(confirm="yes"),
    ),
    "GET /admin/guardians/settings": Row(none, (302, 403, 403, 403, 200, 200)),
    "POST /admin/guardians/settings": Row(
        none,
        (401, 403, 403, 403, 422, 422),
        allowed=ADMINS,
        attack=form(minor_below_age="18"),
        safe=form(minor_below_age="eighteen"),
    ),
    "GET /admin/students/<int:student_id>/guardians": Row(
        of(student_id="sam_id"), (302, 403, 403, 403, 404, 200)
    ),
    "POST /admin/students/<int:student_id>/minor": Row(
        of(student_id="sam_id"),
        (401, 403, 403, 403, 404, 422),
        allowed=("admin",),
        attack=form(minor="y"),
        safe=form(birth_date="not a date"),
    ),
    "POST /admin/students/<int:student_id>/consent": Row(
        of(student_id="sam_id"),
        (401, 403, 403, 403, 404, 422),
        allowed=("admin",),
        attack=form(note="Planted consent"),
    ),
    "GET /admin/students/<int:student_id>/consent/withdraw": Row(
        of(student_id="sam_id"), (302, 403, 403, 403, 404, 200)
    ),
    "POST /admin/students/<int:student_id>/consent/withdraw": Row(
        of(student_id="sam_id"),
        (401, 403, 403, 403, 404, 422),
        allowed=("admin",),
        attack=form(confirm="yes"),
    ),
    # The guardian's own consent page: Gus only (his column says 200 / 422).
    "GET /family/students/<int:student_id>/consent": Row(
        of(student_id="sam_id"), (302, 403, 403, 403, 403, 403)
    ),
    "POST /family/students/<int:student_id>/consent": Row(
        of(student_id="sam_id"), (401, 403, 403, 403, 403, 403), attack=form(understood="y")
    ),
    "GET /family/students/<int:student_id>/consent/withdraw": Row(
        of(student_id="sam_id"), (302, 403, 403, 403, 403, 403)
    ),
    "POST /family/students/<int:student_id>/consent/withdraw": Row(
        of(student_id="sam_id"), (401, 403, 403, 403, 403, 403), attack=form(confirm="yes")
    ),
}


# -- asking ----------------------------------------------------------------------------------


#: What Gus, Sam's guardian, gets on each route (the matrix's seventh column).
GUARDIAN: dict[str, Expect] = {
    "GET /": 302,
    "GET /.well-known/did.json": 200,
    "GET /<path:path>/did.json": 200,
    "GET /achievements/<public_id>": 200,
    "GET /achievements/<public_id>/image": 200,
    "GET /admin/": 403,
    "GET /admin/audit": 403,
    "GET /admin/audit.csv": 403,
    "GET /admin/audit.json": 403,
    "GET /admin/catalogue": 403,
    "GET /admin/catalogue/catalogue.csv": 403,
    "GET /admin/catalogue/competencies/<public_id>": 403,
    "GET /admin/catalogue/competencies/<public_id>/components": 403,
    "GET /admin/catalogue/competencies/<public_id>/edit": 403,
    "GET /admin/catalogue/competencies/<public_id>/prerequisites": 403,
    "GET /admin/catalogue/competencies/<public_id>/rubric": 403,
    "GET /admin/catalogue/competencies/<public_id>/rubric/versions/<int:version>": 403,
    "GET /admin/catalogue/frameworks/<public_id>/case.json": 403,
    "GET /admin/catalogue/import/case": 403,
    "GET /admin/catalogue/import/csv": 403,
    "GET /admin/catalogue/new": 403,
    "GET /admin/credentials": 403,
    "GET /admin/credentials/<public_id>": 403,
    "GET /admin/credentials/<public_id>/revoke": 403,
    "GET /admin/invitations": 403,
    "GET /admin/issuer": 403,
    "GET /admin/signals": 403,
    "GET /admin/roster": 403,
    "GET /admin/trust": 403,
    "GET /api/openapi.json": 200,
    "GET /artefacts/<public_id>": 403,
    "GET /artefacts/<public_id>/captions.vtt": 403,
    "GET /artefacts/<public_id>/thumbnail": 403,
    "GET /c/<public_id>": 200,
    "GET /c/<public_id>/badge.png": 200,
    "GET /c/<public_id>/badge.svg": 200,
    "GET /c/<public_id>/certificate.pdf": 200,
    "GET /c/<public_id>/credential.json": 200,
    "GET /c/<public_id>/evidence/<evidence_id>": 200,
    "GET /c/<public_id>/evidence/<evidence_id>/artefacts/<artefact_id>": 200,
    "GET /c/<public_id>/evidence/<evidence_id>/artefacts/<artefact_id>/<part>": 200,
    "GET /cohort": 403,
    "GET /cohort.csv": 403,
    "GET /plan": 403,
    "GET /plan/choose": 403,
    "POST /plan/choose": 403,
    "GET /plan/items/<public_id>/edit": 403,
    "POST /plan/items/<public_id>/edit": 403,
    "POST /plan/items/<public_id>/move": 403,
    "GET /plan/items/<public_id>/remove": 403,
    "POST /plan/items/<public_id>/remove": 403,
    "GET /journal": 403,
    "GET /journal/new": 403,
    "POST /journal/new": 403,
    "GET /journal/<public_id>/edit": 403,
    "POST /journal/<public_id>/edit": 403,
    "GET /journal/<public_id>/delete": 403,
    "POST /journal/<public_id>/delete": 403,
    "GET /journal/<public_id>/audio": 403,
    "GET /learners/<int:student_id>/plan": 200,
    "POST /learners/<int:student_id>/plan/comments": 422,
    "GET /learners/<int:student_id>/journal/<public_id>/audio": 200,
    "GET /evidence": 403,
    "GET /evidence/<public_id>": 403,
    "GET /evidence/<public_id>/delete": 403,
    "GET /evidence/<public_id>/edit": 403,
    "GET /evidence/new": 403,
    "GET /family": 200,
    "GET /family/students/<int:student_id>": 200,
    "GET /family/students/<int:student_id>/feedback": 200,
    "GET /family/students/<int:student_id>/portfolios/<public_id>": 200,
    "GET /family/students/<int:student_id>/portfolios/<public_id>/artefacts/<artefact_id>": 200,
    "GET /family/students/<int:student_id>/portfolios/<public_id>/artefacts/<artefact_id>/<part>": (
        200
    ),
    "GET /family/students/<int:student_id>/progress": 200,
    "GET /healthz": 200,
    "GET /home": 403,
    "GET /issuers/<slug>": 200,
    "GET /jobs": 403,
    "GET /jobs/<public_id>": 403,
    "GET /jobs/<public_id>/results.csv": 403,
    "GET /join/<token>": 200,
    "GET /metrics": 200,
    "GET /my/credentials": 403,
    "GET /my/credentials/<public_id>/qr.svg": 403,
    "GET /my/credentials/evidence": 403,
    "GET /notifications": 200,
    "GET /p/<slug>": 200,
    "GET /p/<slug>/artefacts/<artefact_id>": 200,
    "GET /p/<slug>/artefacts/<artefact_id>/<part>": 200,
    "GET /password/forgot": 200,
    "GET /password/reset/<token>": 200,
    "GET /portfolios": 403,
    "GET /portfolios/<public_id>": 404,
    "GET /portfolios/<public_id>/artefacts/<artefact_id>": 404,
    "GET /portfolios/<public_id>/artefacts/<artefact_id>/<part>": 404,
    "GET /portfolios/<public_id>/edit": 403,
    "GET /portfolios/<public_id>/export.pdf": 403,
    "GET /portfolios/<public_id>/export.zip": 403,
    "GET /profile": 200,
    "GET /profile/delete": 403,
    "GET /profile/export": 403,
    "GET /profile/photo": 404,
    "GET /progress": 403,
    "GET /progress/chart.svg": 403,
    "GET /readyz": 503,
    "GET /review": 403,
    "GET /review/<public_id>": 403,
    "GET /review/<public_id>/artefacts/<artefact_id>": 403,
    "GET /review/<public_id>/artefacts/<artefact_id>/<part>": 403,
    "GET /review/cohort-endorse": 403,
    "GET /review/endorse": 403,
    "GET /sign-in": 200,
    "GET /sign-out-everywhere": 200,
    "GET /status/<public_id>": 200,
    "GET /submissions": 403,
    "GET /submissions/<public_id>": 403,
    "GET /submissions/new": 403,
    "GET /verify": 200,
    "POST /admin/catalogue/competencies/<public_id>/archive": 403,
    "POST /admin/catalogue/competencies/<public_id>/components": 403,
    "POST /admin/catalogue/competencies/<public_id>/delete": 403,
    "POST /admin/catalogue/competencies/<public_id>/edit": 403,
    "POST /admin/catalogue/competencies/<public_id>/image": 403,
    "POST /admin/catalogue/competencies/<public_id>/prerequisites": 403,
    "POST /admin/catalogue/competencies/<public_id>/rubric": 403,
    "POST /admin/catalogue/competencies/<public_id>/unarchive": 403,
    "POST /admin/catalogue/frameworks": 403,
    "POST /admin/catalogue/import/case": 403,
    "POST /admin/catalogue/import/csv": 403,
    "POST /admin/catalogue/new": 403,
    "POST /admin/credentials/<public_id>/revoke": 403,
    "POST /admin/credentials/<public_id>/suspend": 403,
    "POST /admin/credentials/<public_id>/unsuspend": 403,
    "POST /admin/invitations": 403,
    "POST /admin/invitations/<invitation_id>/revoke": 403,
    "POST /admin/issuer/profile": 403,
    "POST /admin/signals": 403,
    "POST /admin/issuer/status": 403,
    "POST /admin/roster": 403,
    "POST /admin/trust/issuers": 403,
    "POST /admin/trust/issuers/<int:entry_id>/remove": 403,
    "POST /admin/trust/recipient-identity": 403,
    "POST /credentials/issue": 401,
    "POST /credentials/verify": 400,
    "POST /evidence/<public_id>/artefacts/<artefact_id>/delete": 403,
    "POST /evidence/<public_id>/artefacts/<artefact_id>/move": 403,
    "POST /evidence/<public_id>/artefacts/file": 403,
    "POST /evidence/<public_id>/artefacts/link": 403,
    "POST /evidence/<public_id>/delete": 403,
    "POST /evidence/<public_id>/edit": 403,
    "POST /evidence/new": 403,
    "POST /jobs/<public_id>/cancel": 403,
    "POST /join/<token>": 422,
    "POST /my/credentials/<public_id>/evidence/delete": 403,
    "POST /my/credentials/<public_id>/evidence/visibility": 403,
    "POST /my/credentials/<public_id>/revocation-request": 403,
    "POST /my/credentials/<public_id>/visibility": 403,
    "POST /notifications/read": 303,
    "POST /oauth/token": 400,
    "POST /password/forgot": 422,
    "POST /password/reset/<token>": 422,
    "POST /portfolios": 403,
    "POST /portfolios/<public_id>/delete": 403,
    "POST /portfolios/<public_id>/details": 403,
    "POST /portfolios/<public_id>/items/<item_id>/delete": 403,
    "POST /portfolios/<public_id>/items/<item_id>/move": 403,
    "POST /portfolios/<public_id>/guardians": 403,
    "POST /portfolios/<public_id>/revoke-link": 403,
    "POST /portfolios/<public_id>/sections": 403,
    "POST /portfolios/<public_id>/sections/<section_id>/delete": 403,
    "POST /portfolios/<public_id>/sections/<section_id>/items": 403,
    "POST /portfolios/<public_id>/sections/<section_id>/move": 403,
    "POST /portfolios/<public_id>/sections/<section_id>/rename": 403,
    "POST /portfolios/<public_id>/visibility": 403,
    "POST /presentations/verify": 400,
    "POST /profile": 303,
    "POST /profile/delete": 403,
    "POST /review/<public_id>/assess": 403,
    "POST /review/<public_id>/start": 403,
    "POST /review/cohort-endorse": 403,
    "POST /review/endorse": 403,
    "POST /sign-in": 422,
    "POST /sign-out": 303,
    "POST /sign-out-everywhere": 422,
    "GET /submissions/<public_id>/self-assessment": 403,
    "POST /submissions/<public_id>/self-assessment": 403,
    "POST /submissions/<public_id>/peer-feedback": 403,
    "GET /peer-feedback": 403,
    "GET /peer-feedback/<public_id>": 403,
    "POST /peer-feedback/<public_id>": 403,
    "POST /peer-feedback/<public_id>/decline": 403,
    "POST /peer-feedback/<public_id>/withdraw": 403,
    "POST /peer-feedback/<public_id>/hide": 403,
    "GET /peer-feedback/<public_id>/artefacts/<artefact_id>": 403,
    "GET /peer-feedback/<public_id>/artefacts/<artefact_id>/<part>": 403,
    "POST /submissions/<public_id>": 403,
    "POST /submissions/new": 403,
    "POST /verify": 400,
    # -- guardians and consent: the school's pages are not his; his own consent page is.
    "GET /admin/guardians": 403,
    "POST /admin/guardians": 403,
    "POST /admin/guardians/<int:guardian_id>/links": 403,
    "GET /admin/guardians/<int:guardian_id>/students/<int:student_id>/unlink": 403,
    "POST /admin/guardians/<int:guardian_id>/students/<int:student_id>/unlink": 403,
    "GET /admin/guardians/settings": 403,
    "POST /admin/guardians/settings": 403,
    "GET /admin/students/<int:student_id>/guardians": 403,
    "POST /admin/students/<int:student_id>/minor": 403,
    "POST /admin/students/<int:student_id>/consent": 403,
    "GET /admin/students/<int:student_id>/consent/withdraw": 403,
    "POST /admin/students/<int:student_id>/consent/withdraw": 403,
    "GET /family/students/<int:student_id>/consent": 200,
    "POST /family/students/<int:student_id>/consent": 422,
    "GET /family/students/<int:student_id>/consent/withdraw": 200,
    "POST /family/students/<int:student_id>/consent/withdraw": 422,
}
#: POST routes Gus may act on besides those every signed-in person may (he sends ``safe``).
GUARDIAN_MAY: frozenset[str] = frozenset(
    {
        "POST /learners/<int:student_id>/plan/comments",
        "POST /family/students/<int:student_id>/consent",
        "POST /family/students/<int:student_id>/consent/withdraw",
    }
)


def route_keys(app: Flask) -> set[str]:
    """``"METHOD /rule"`` for every route of the app but ``static`` (HEAD and OPTIONS aside)."""
    return {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    }


def _url(rule: str, values: dict[str, str]) -> str:
    url = rule
    for name, value in values.items():
        for converter in ("", "int:", "path:"):
            url = url.replace(f"<{converter}{name}>", value)
    assert "<" not in url, f"{rule}: a URL value is missing ({url})"
    return url


def _client(world: World, role: str, *, own_session: bool) -> Any:
    if role == "anonymous":
        return client_with(world.app, None)
    cookie = session_cookie(world.app, world.emails[role]) if own_session else world.cookies[role]
    return client_with(world.app, cookie)


def _matches(expect: Expect, status: int) -> bool:
    return status in expect if isinstance(expect, frozenset) else status == expect


#: What Sam alone (and the school's staff) may read: Sam's name, work and notes.
SAMS = ("Sam Student", "My song", "A story", "Songbook of Sam", "Please read it.")
#: What only the school's own people may read: its people, competencies and invitations.
SCHOOLS = (
    "Asa Assessor",
    "Ada Admin",
    "Oli Other",
    "Song writing",
    "Story telling",
    "new.student@school.test",
)


def private_to(world: World, role: str) -> tuple[str, ...]:
    """Texts a page behind sign-in must not show to ``role``."""
    if role == "guardian":
        # Gus reads what Sam shares with him, never the rest of the school.
        return ("Oli Other", "new.student@school.test", "Please read it.")
    if role == "other_student":
        return (*SAMS, world.submission, world.credential)
    if role == "other_admin":
        return (*SAMS, *SCHOOLS, world.submission, world.credential)
    return ()


def _is_text(response: Any) -> bool:
    return response.mimetype.startswith("text/") or response.mimetype.endswith("json")


def ask(world: World, key: str, role: str, before: Snapshot | None) -> tuple[int, list[str]]:
    """Send the row's request as ``role``; the status, and what went wrong besides: the
    tables a refused change changed since ``before``, or the private texts a page behind
    sign-in showed to someone who may not read them."""
    row = MATRIX[key]
    method, rule = key.split(" ", 1)
    allowed = is_allowed(key, role)
    values = row.values(world)
    if method == "POST" and allowed and row.scratch is not None:
        values = {**values, **row.scratch(world)}
    url = _url(rule, values)
    client = _client(world, role, own_session=row.own_session)
    query = row.query(world) if row.query else None
    if method == "GET":
        response = client.get(url, query_string=query)
        leaks = []
        if response.status_code == 200 and MATRIX[key].expect[0] != 200:
            text = response.get_data(as_text=True) if _is_text(response) else ""
            leaks = [marker for marker in private_to(world, role) if marker in text]
        return response.status_code, [f"shows {marker!r}" for marker in leaks]
    body = ((row.safe if allowed else row.attack) or (lambda _world: {}))(world)
    if row.json:
        response = client.post(url, json=body, query_string=query)
    else:
        response = client.post(url, data=body, query_string=query)
    changed = [] if before is None else changed_tables(before, snapshot(world.app))
    return response.status_code, [f"a refused request changed {name}" for name in changed]


# -- the tests -------------------------------------------------------------------------------


def test_every_route_has_a_row_in_the_matrix(world: World) -> None:
    routes = route_keys(world.app)
    missing = sorted(routes - MATRIX.keys())
    assert not missing, (
        "routes without a row in the authorization matrix (add one to MATRIX in "
        f"{Path(__file__).name}, saying what each person gets): {missing}"
    )
    stale = sorted(MATRIX.keys() - routes)
    assert not stale, f"rows of the authorization matrix for routes that no longer exist: {stale}"


def expectations(key: str) -> list[tuple[str, Expect]]:
    """``(person, expected status)`` for every person of :data:`PEOPLE`."""
    return [*zip(ROLES, MATRIX[key].expect, strict=True), ("guardian", GUARDIAN[key])]


def is_allowed(key: str, role: str) -> bool:
    """Whether ``role`` may act on the row's POST route (sends its ``safe`` form)."""
    row = MATRIX[key]
    if role == "guardian":
        return key in GUARDIAN_MAY or set(row.allowed) >= set(SIGNED_IN)
    return role in row.allowed


def test_every_row_says_what_the_guardian_gets() -> None:
    assert sorted(MATRIX.keys() - GUARDIAN.keys()) == [], "add the guardian's answer to GUARDIAN"
    assert sorted(GUARDIAN.keys() - MATRIX.keys()) == [], "GUARDIAN names routes MATRIX lacks"
    assert MATRIX.keys() >= GUARDIAN_MAY


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_each_person_gets_what_the_matrix_says(world: World, key: str) -> None:
    problems = []
    # Those who may not change anything go first, against one snapshot of the database.
    before = snapshot(world.app) if key.startswith("POST") else None
    expected = sorted(expectations(key), key=lambda pair: is_allowed(key, pair[0]))
    for role, expect in expected:
        status, wrongs = ask(world, key, role, None if is_allowed(key, role) else before)
        if not _matches(expect, status):
            problems.append(f"{role}: expected {expect}, got {status}")
        problems += [f"{role}: {wrong}" for wrong in wrongs]
    assert not problems, f"{key}: " + "; ".join(problems)


@pytest.mark.parametrize("key", sorted(k for k, row in MATRIX.items() if k.startswith("POST")))
def test_a_refused_change_is_a_refusal(key: str) -> None:
    """Whoever is not allowed to change something is told "sign in", "not allowed" or "not
    found" — never a success — except where the row says the request is judged on its content
    (another issuer's competency is not one you can endorse)."""
    for role, expect in expectations(key):
        if is_allowed(key, role):
            continue
        statuses = expect if isinstance(expect, frozenset) else frozenset({expect})
        assert statuses <= REFUSALS | {422}, f"{key}: {role} is not allowed but expects {expect}"


#: A URL that joins two objects that do not belong together: (person, URL, body for a POST).
#: Each must be "not found", whoever asks — holding one object opens nothing else.
MISMATCHES: dict[str, tuple[str, Callable[[World], str], Callable[[World], Form] | None]] = {
    "evidence not behind the credential": (
        "anonymous",
        lambda w: f"/c/{w.credential}/evidence/{w.evidence2}",
        None,
    ),
    "the live evidence behind the credential (it shows the frozen copy)": (
        "anonymous",
        lambda w: f"/c/{w.credential}/evidence/{w.evidence}",
        None,
    ),
    "an artefact of other evidence under the credential's evidence": (
        "anonymous",
        lambda w: f"/c/{w.credential}/evidence/{w.frozen_song}/artefacts/{w.story_lyrics}",
        None,
    ),
    "a live artefact under the credential's frozen evidence": (
        "anonymous",
        lambda w: f"/c/{w.credential}/evidence/{w.frozen_song}/artefacts/{w.lyrics}",
        None,
    ),
    "the thumbnail of a frozen image (only digest-covered files are public)": (
        "anonymous",
        lambda w: (
            f"/c/{w.credential}/evidence/{w.frozen_song}/artefacts/{w.frozen_image}/thumbnail"
        ),
        None,
    ),
    "an artefact outside the submission a peer was asked about": (
        "student",
        lambda w: f"/peer-feedback/{w.peer_review}/artefacts/{w.lyrics}",
        None,
    ),
    "an artefact outside the shared portfolio": (
        "anonymous",
        lambda w: f"/p/{w.slug}/artefacts/{w.story_lyrics}",
        None,
    ),
    "an artefact outside the portfolio shared with the guardian": (
        "guardian",
        lambda w: f"/family/students/{w.sam}/portfolios/{w.family_book}/artefacts/{w.story_lyrics}",
        None,
    ),
    "a portfolio of the student's that is not shared with guardians": (
        "guardian",
        lambda w: f"/family/students/{w.sam}/portfolios/{w.portfolio}",
        None,
    ),
    "an artefact outside the owner's own portfolio": (
        "student",
        lambda w: f"/portfolios/{w.portfolio}/artefacts/{w.story_lyrics}",
        None,
    ),
    "an artefact of another student under a submission": (
        "assessor",
        lambda w: f"/review/{w.submission}/artefacts/{w.olis_lyrics}",
        None,
    ),
    "an artefact of another student in the owner's evidence": (
        "student",
        lambda w: f"/artefacts/{w.olis_lyrics}",
        None,
    ),
    "another issuer's competency as a prerequisite": (
        "admin",
        lambda w: f"/admin/catalogue/competencies/{w.competency2}/prerequisites",
        lambda w: {"chosen": [w.foreign_competency]},
    ),
    "another issuer's competency as a stack component": (
        "admin",
        lambda w: f"/admin/catalogue/competencies/{w.stack}/components",
        lambda w: {"chosen": [w.competency2, w.foreign_competency]},
    ),
    "another issuer's competency in the catalogue": (
        "admin",
        lambda w: f"/admin/catalogue/competencies/{w.foreign_competency}",
        None,
    ),
    "a portfolio section of the owner's other portfolio": (
        "student",
        lambda w: f"/portfolios/{w.portfolio}/sections/{w.drafts_section}/rename",
        lambda _w: {"title": "Planted"},
    ),
}


@pytest.mark.parametrize("case", sorted(MISMATCHES))
def test_an_object_named_through_one_it_does_not_belong_to_is_not_found(
    world: World, case: str
) -> None:
    role, url_of, body_of = MISMATCHES[case]
    client = _client(world, role, own_session=False)
    if body_of is None:
        assert client.get(url_of(world)).status_code == 404
        return
    before = snapshot(world.app)
    assert client.post(url_of(world), data=body_of(world)).status_code == 404
    assert changed_tables(before, snapshot(world.app)) == []
