"""The demo school that ``credfolio demo-setup`` seeds: a realistic issuer to click through.
Here :func:`seed` puts it together; each part is seeded by its own module (``catalogue``,
``people``, ``evidence``, ``scenarios``) and ``summary`` tells what was made.

What it holds:

* a competency framework, “Creative expression”: five competencies (Song writing, Storytelling,
  Performance, Project design, Reflection) with criteria, tags, alignments to public standards
  and versioned rubrics (four levels; mastery by minimum level or by points), one prerequisite
  (Performance needs Song writing), one competency under moderation (Project design needs two
  assessors to agree) and one stack badge, “Young creator” (Song writing + Storytelling);
* people: the demo administrator, two assessors and four students in two cohorts, each with a
  random password recorded in ``instance/demo-accounts.txt`` (mode 0600), students with a
  learner profile;
* evidence with real files made here: song recordings (WAV, a sine melody), stories and
  write-ups (Markdown), project diagrams (PNG) and links;
* ten submissions, all driven through :mod:`portfolio.assessment.service` — so the endorsed
  ones carry real signed credentials (and one stack badge) and every transition is in the audit
  trail — with one endorsed after a revision round, one revision requested, one waiting in the
  queue, one flagged by a moderation disagreement, one endorsed by two assessors, a draft and a
  “not yet”; notices go out as the flow sends them (in the app, and by mail: to the outbox folder
  unless SMTP is configured);
* one credential revoked through :func:`portfolio.issuing.service.set_status`.  The school does
  not offer suspension (the default), so every credential it issues carries one
  ``credentialStatus`` object and matches the 1EdTech OB 3.0 schema as published.

Seeding is idempotent: everything is looked up by a natural key first, so running it again
adds nothing.  The catalogue is made in one transaction and only when the framework (its fixed
CASE identifier) is missing, so what administrators changed in it stays changed; accounts are
matched by email address, evidence by title per owner, and each scenario by its student and
competency: a scenario whose submission exists is left as it is, whatever happened to it since.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from portfolio.accounts.models import Issuer, User
from portfolio.assessment.mastery import mastered
from portfolio.assessment.models import Submission
from portfolio.catalogue.models import Competency, CompetencyFramework
from portfolio.demo.catalogue import seed_catalogue
from portfolio.demo.evidence import seed_evidence
from portfolio.demo.families import seed_families, seed_family_portfolio
from portfolio.demo.peer import seed_peer
from portfolio.demo.people import ACCOUNTS_FILE, read_accounts, seed_people
from portfolio.demo.plans import seed_plans
from portfolio.demo.scenarios import SCENARIOS, play
from portfolio.demo.signals import seed_signals
from portfolio.evidence.models import Evidence
from portfolio.issuing.models import IssuedCredential


@dataclass
class DemoSchool:
    """What :func:`seed` made or found, and how many rows of each kind it created."""

    issuer: Issuer
    framework: CompetencyFramework
    competencies: dict[str, Competency]
    people: dict[str, User]
    #: email → password, as recorded in the accounts file (None when not recorded there).
    passwords: dict[str, str | None]
    evidence: dict[str, Evidence]
    submissions: dict[str, Submission]
    created: Counter[str]
    accounts_file: Path

    def credential(self, scenario: str) -> IssuedCredential | None:
        """The credential the scenario's submission earned, if any."""
        submission = self.submissions.get(scenario)
        return submission.credential if submission is not None else None

    def stack_credential(self, student: str, stack: str = "creator") -> IssuedCredential | None:
        """The stack badge ``student`` holds, if any."""
        competency = self.competencies.get(stack)
        row = mastered(self.people[student], competency) if competency is not None else None
        return row.credential if row is not None else None


def seed(issuer: Issuer, *, instance_path: str | Path) -> DemoSchool:
    """Seed the demo school for ``issuer`` (whose signing key must exist); idempotent."""
    created: Counter[str] = Counter()
    accounts_file = Path(instance_path) / ACCOUNTS_FILE
    framework, competencies = seed_catalogue(issuer, created)
    people = seed_people(issuer, accounts_file, created)
    seed_families(people)
    evidence = seed_evidence(people, competencies, created)
    seed_family_portfolio(people, evidence)
    submissions = {}
    # The demo's people are made up: their notices stay in-app, never mailed.
    notify_by_mail = current_app.config.get("CREDFOLIO_NOTIFY_BY_MAIL", True)
    current_app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    try:
        for scenario in SCENARIOS:
            submission = play(scenario, people, competencies, evidence, created)
            if submission is not None:
                submissions[scenario.key] = submission
        seed_signals(people, competencies, evidence)
        seed_peer(people, competencies, submissions)
    finally:
        current_app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = notify_by_mail
    seed_plans(people, competencies)
    return DemoSchool(
        issuer=issuer,
        framework=framework,
        competencies=competencies,
        people=people,
        passwords=read_accounts(accounts_file),
        evidence=evidence,
        submissions=submissions,
        created=created,
        accounts_file=accounts_file,
    )
