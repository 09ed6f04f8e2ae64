"""What ``credfolio demo-setup`` tells the person running it: what this run added, how to sign in
as every demo account, and pages worth opening."""

from __future__ import annotations

from portfolio.accounts.models import Role
from portfolio.assessment import service as assessment
from portfolio.assessment.models import SubmissionState
from portfolio.demo.people import PEOPLE
from portfolio.demo.school import DemoSchool

ROLE_LABELS: dict[str, str] = {
    Role.ADMIN: "Administrator",
    Role.ASSESSOR: "Assessor",
    Role.STUDENT: "Student",
}


#: What :func:`created_line` reports, in order: (counter key, singular, plural).
_CREATED = (
    ("frameworks", "framework", "frameworks"),
    ("competencies", "competency", "competencies"),
    ("rubrics", "rubric", "rubrics"),
    ("accounts", "account", "accounts"),
    ("profiles", "learner profile", "learner profiles"),
    ("evidence", "piece of evidence", "pieces of evidence"),
    ("submissions", "submission", "submissions"),
    ("credentials", "credential", "credentials"),
    ("revoked", "revocation", "revocations"),
    ("suspended", "suspension", "suspensions"),
)


def created_line(school: DemoSchool) -> str:
    """One line saying what this run added (or that it added nothing)."""
    parts = [
        f"{count} {singular if count == 1 else plural}"
        for key, singular, plural in _CREATED
        if (count := school.created[key])
    ]
    if not parts:
        return "Demo school: already seeded, nothing added."
    return "Demo school: added " + ", ".join(parts) + "."


def summary_lines(school: DemoSchool, public_url: str) -> list[str]:
    """Sign-in details for every demo account and a few pages worth opening."""
    base = public_url.rstrip("/")
    lines = [created_line(school), f"Sign in at {base}/sign-in with:"]
    for spec in PEOPLE:
        user = school.people[spec.key]
        password = school.passwords.get(user.email) or "(password not recorded)"
        label = f"{ROLE_LABELS[user.role] + ':':<14}"
        if user.role == Role.ADMIN:
            lines.append(f"{label} {user.email} / {password}  (sign in at /sign-in)")
        else:
            who = user.display_name + (f", {user.cohort}" if user.cohort else "")
            lines.append(f"{label} {user.email} / {password}  ({who})")
    lines.append(f"(The passwords are also in {school.accounts_file}, readable by you only.)")

    def page(label: str, path: str) -> None:
        lines.append(f"  {label + ':':<44} {base}{path}")

    lines.append("Pages to try:")
    for scenario in ("maya-song", "priya-story", "leo-story"):
        row = school.credential(scenario)
        if row is not None:
            who = school.people[scenario.split("-")[0]].display_name.split()[0]
            state = "Public" if row.state == "active" else row.state.capitalize()
            page(f"{state} credential ({who}, {row.achievement_name})", f"/c/{row.public_id}")
    badge = school.stack_credential("maya")
    if badge is not None:
        page(f"Stack badge (Maya, {badge.achievement_name})", f"/c/{badge.public_id}")
    page("Review queue (sign in as an assessor)", "/review")
    flagged = school.submissions.get("priya-project")
    if flagged is not None and flagged.flagged_at is not None:
        page("Flagged for moderation (as the admin)", assessment.review_path(flagged))
    page("Progress map (as a student, e.g. Maya)", "/progress")
    revision = school.submissions.get("leo-song")
    if revision is not None and revision.state == SubmissionState.REVISION_REQUESTED:
        page("Revision requested (as Leo)", assessment.submission_path(revision))
    page("Cohort view (as an assessor or the admin)", "/cohort")
    page("Catalogue (as the admin)", "/admin/catalogue")
    page("Verify a credential (anyone)", "/verify")
    return lines
