"""What ``credfolio demo-setup`` tells the person running it: what this run added, how to sign in
as every demo account, and pages worth opening."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from portfolio.accounts.models import Role
from portfolio.assessment import service as assessment
from portfolio.assessment.models import SubmissionState
from portfolio.demo.people import PEOPLE
from portfolio.demo.school import DemoSchool


def _role_labels() -> dict[str, str]:
    """The roles as the sign-in lines name them, in the terminal's language."""
    return {
        Role.ADMIN: _("Administrator"),
        Role.ASSESSOR: _("Assessor"),
        Role.STUDENT: _("Student"),
        Role.GUARDIAN: _("Guardian"),
    }


def _created(key: str, count: int) -> str:
    """``count`` things of the counter ``key``, in words."""
    if key == "frameworks":
        return str(ngettext("%(num)d framework", "%(num)d frameworks", count))
    if key == "competencies":
        return str(ngettext("%(num)d competency", "%(num)d competencies", count))
    if key == "rubrics":
        return str(ngettext("%(num)d rubric", "%(num)d rubrics", count))
    if key == "accounts":
        return str(ngettext("%(num)d account", "%(num)d accounts", count))
    if key == "profiles":
        return str(ngettext("%(num)d learner profile", "%(num)d learner profiles", count))
    if key == "evidence":
        return str(ngettext("%(num)d piece of evidence", "%(num)d pieces of evidence", count))
    if key == "submissions":
        return str(ngettext("%(num)d submission", "%(num)d submissions", count))
    if key == "credentials":
        return str(ngettext("%(num)d credential", "%(num)d credentials", count))
    if key == "revoked":
        return str(ngettext("%(num)d revocation", "%(num)d revocations", count))
    return str(ngettext("%(num)d suspension", "%(num)d suspensions", count))


#: What :func:`created_line` reports, in order (counter keys).
_CREATED = (
    "frameworks",
    "competencies",
    "rubrics",
    "accounts",
    "profiles",
    "evidence",
    "submissions",
    "credentials",
    "revoked",
    "suspended",
)


def created_line(school: DemoSchool) -> str:
    """One line saying what this run added (or that it added nothing)."""
    parts = [_created(key, count) for key in _CREATED if (count := school.created[key])]
    if not parts:
        return str(_("Demo school: already seeded, nothing added."))
    return str(_("Demo school: added %(things)s.", things=", ".join(parts)))


def _credential_page(state: str, who: str, name: str | None) -> str:
    """The label of a demo credential's public page."""
    if state == "revoked":
        return str(_("Revoked credential (%(who)s, %(name)s)", who=who, name=name))
    if state == "suspended":
        return str(_("Suspended credential (%(who)s, %(name)s)", who=who, name=name))
    if state == "expired":
        return str(_("Expired credential (%(who)s, %(name)s)", who=who, name=name))
    return str(_("Public credential (%(who)s, %(name)s)", who=who, name=name))


def summary_lines(school: DemoSchool, public_url: str) -> list[str]:
    """Sign-in details for every demo account and a few pages worth opening."""
    base = public_url.rstrip("/")
    sign_in = base + "/sign-in"
    lines = [created_line(school), _("Sign in at %(url)s with:", url=sign_in)]
    roles = _role_labels()
    for spec in PEOPLE:
        user = school.people[spec.key]
        password = school.passwords.get(user.email) or _("(password not recorded)")
        label = f"{roles[user.role] + ':':<14}"
        if user.role == Role.ADMIN:
            lines.append(
                f"{label} {user.email} / {password}  " + _("(sign in at %(path)s)", path="/sign-in")
            )
        else:
            who = user.display_name + (f", {user.cohort}" if user.cohort else "")
            lines.append(f"{label} {user.email} / {password}  ({who})")
    lines.append(
        _(
            "(The passwords are also in %(file)s, readable by you only.)",
            file=school.accounts_file,
        )
    )

    def page(label: str, path: str) -> None:
        lines.append(f"  {label + ':':<44} {base}{path}")

    lines.append(_("Pages to try:"))
    for scenario in ("maya-song", "priya-story", "leo-story"):
        row = school.credential(scenario)
        if row is not None:
            who = school.people[scenario.split("-")[0]].display_name.split()[0]
            page(_credential_page(row.state, who, row.achievement_name), f"/c/{row.public_id}")
    badge = school.stack_credential("maya")
    if badge is not None:
        page(
            _("Stack badge (Maya, %(name)s)", name=badge.achievement_name), f"/c/{badge.public_id}"
        )
    page(_("Review queue (sign in as an assessor)"), "/review")
    flagged = school.submissions.get("priya-project")
    if flagged is not None and flagged.flagged_at is not None:
        page(_("Flagged for moderation (as the admin)"), assessment.review_path(flagged))
    page(_("Progress map (as a student, e.g. Maya)"), "/progress")
    revision = school.submissions.get("leo-song")
    if revision is not None and revision.state == SubmissionState.REVISION_REQUESTED:
        page(_("Revision requested (as Leo)"), assessment.submission_path(revision))
    page(_("Cohort view (as an assessor or the admin)"), "/cohort")
    page(_("Catalogue (as the admin)"), "/admin/catalogue")
    page(_("Verify a credential (anyone)"), "/verify")
    return lines
