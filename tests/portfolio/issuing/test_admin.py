"""Issuer administrators: their own issuer's credentials only, 50 a page and searchable;
revoking (after a confirmation), suspending and unsuspending change what every verifier sees."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.issuing import service as services
from tests.conftest import offer_suspension, unsigned_badge
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID, make_user, sign_in

ADMIN = "alice@school.example"
OTHER_ADMIN = "olga@other-school.example"


@pytest.fixture(autouse=True)
def _csrf_off(app):
    """CSRF tokens are checked in the tests about CSRF, which switch them back on."""
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def schools(app) -> None:
    """Two issuers with signing keys (the service's own, and another school), one admin each;
    both offer suspension (their credentials carry both status entries)."""
    with app.app_context():
        store = app.extensions["credfolio"].key_store
        store.create(offer_suspension(default_issuer()).did)
        other = ensure_issuer(did=OTHER_ISSUER_DID, name="Other School", slug="other")
        offer_suspension(other)
        store.create(other.did)
    make_user(app, ADMIN)
    make_user(app, OTHER_ADMIN, issuer_did=OTHER_ISSUER_DID)


@pytest.fixture
def admin(client, schools) -> Any:
    """A client signed in as the administrator of the service's issuer."""
    assert sign_in(client, ADMIN).status_code == 303
    return client


def issue(
    app: Flask, recipient: str = "Ada Lovelace", achievement: str = "Teamwork", *, other=False
) -> str:
    """Issue a credential (by the other school when ``other``); its public id."""
    with app.app_context():
        if other:
            issuer = ensure_issuer(did=OTHER_ISSUER_DID, name="Other School")
        else:
            issuer = default_issuer()
        badge = unsigned_badge()
        badge["credentialSubject"]["achievement"]["name"] = achievement
        return services.issue(badge, issuer=issuer, recipient_name=recipient).public_id


def state_and_checks(app: Flask, public_id: str) -> tuple[str, dict[str, str]]:
    """The recorded state, and what the service's verifier now says about the signed JSON."""
    with app.app_context():
        row = services.find_credential(public_id)
        result = services.service_verifier().verify(json.loads(row.document))
        return row.state, {check.name: check.status for check in result.checks}


def suspended(app: Flask, public_id: str, reason: str = "Under review") -> str:
    with app.app_context():
        services.set_status(services.find_credential(public_id), "suspend", reason=reason)
    return public_id


def listed_rows(page: str) -> list[str]:
    """The achievement names of the table rows, in order."""
    return re.findall(r'<td><a href="/admin/credentials/[^"]+">([^<]*)</a></td>', page)


# -- who may do what -------------------------------------------------------------------------

ROUTES = (
    ("GET", "/admin/credentials"),
    ("GET", "/admin/credentials/{id}"),
    ("GET", "/admin/credentials/{id}/revoke"),
    ("POST", "/admin/credentials/{id}/suspend"),
    ("POST", "/admin/credentials/{id}/unsuspend"),
    ("POST", "/admin/credentials/{id}/revoke"),
)
# The credential belongs to the service's issuer and starts suspended; every POST carries a
# complete form, in the order above.  For its own administrator "suspend" reaches the service,
# which refuses (409: already suspended); "unsuspend" and then "revoke" succeed (303).
# fmt: off
AUTHORIZATION = {
    # who                        list  detail confirm suspend unsuspend revoke
    "anonymous":                (302,  302,   302,    401,    401,      401),
    "student":                  (403,  403,   403,    403,    403,      403),
    "assessor":                 (403,  403,   403,    403,    403,      403),
    "admin of the issuer":      (200,  200,   200,    409,    303,      303),
    "admin of another issuer":  (200,  404,   404,    404,    404,      404),
}
# fmt: on
ACCOUNTS = {
    "student": ("sam@school.example", "student", None),
    "assessor": ("ann@school.example", "assessor", None),
    "admin of the issuer": (ADMIN, "admin", None),
    "admin of another issuer": (OTHER_ADMIN, "admin", OTHER_ISSUER_DID),
}
FORM = {
    "suspend-reason": "Plagiarism report",
    "unsuspend-reason": "",
    "reason": "Awarded in error",
    "confirm": "y",
}


@pytest.mark.parametrize("who", AUTHORIZATION)
def test_authorization_matrix(app, client, schools, who):
    public_id = suspended(app, issue(app))
    if who in ("student", "assessor"):
        make_user(app, ACCOUNTS[who][0], ACCOUNTS[who][1])
    if who != "anonymous":
        assert sign_in(client, ACCOUNTS[who][0]).status_code == 303
    statuses = []
    for method, route in ROUTES:
        path = route.format(id=public_id)
        response = client.get(path) if method == "GET" else client.post(path, data=FORM)
        statuses.append(response.status_code)
    assert tuple(statuses) == AUTHORIZATION[who]
    expected_state = "revoked" if who == "admin of the issuer" else "suspended"
    assert state_and_checks(app, public_id)[0] == expected_state


def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, schools):
    response = client.get("/admin/credentials")
    assert response.headers["Location"] == "/sign-in?next=/admin/credentials"


def test_another_issuers_credential_looks_like_one_that_does_not_exist(app, client, schools):
    theirs = issue(app, other=True)
    assert sign_in(client, ADMIN).status_code == 303
    client.get("/sign-in")  # shows (and so forgets) the "welcome back" message
    # One request id for both: error pages quote it (it differs per request otherwise).
    same = {"X-Request-ID": "same-reference"}
    missing = client.get("/admin/credentials/00000000-0000-4000-8000-000000000000", headers=same)
    foreign = client.get(f"/admin/credentials/{theirs}", headers=same)
    assert missing.status_code == foreign.status_code == 404
    # The same page (its <main>; the header carries a per-render CSRF token).
    main = re.compile(rb"<main.*?</main>", re.S)
    assert main.search(missing.get_data()).group() == main.search(foreign.get_data()).group()


def test_credentials_are_found_by_public_id_only(app, admin):
    public_id = issue(app)
    with app.app_context():
        row = services.find_credential(public_id)
        numeric, url = str(row.id), row.credential_id
    assert admin.get(f"/admin/credentials/{numeric}").status_code == 404
    assert admin.get(f"/admin/credentials/{public_id}").status_code == 200
    assert url.endswith(public_id)


# -- the list --------------------------------------------------------------------------------


def test_the_list_shows_the_issuers_own_credentials_newest_first(app, admin):
    first = issue(app, "Ada Lovelace", "Teamwork")
    issue(app, "Olga Other", "Foreign Badge", other=True)
    second = suspended(app, issue(app, "Grace Hopper", "Robotics"))
    page = admin.get("/admin/credentials").get_data(as_text=True)
    assert listed_rows(page) == ["Robotics", "Teamwork"]
    assert "Foreign Badge" not in page and "Olga Other" not in page
    assert f'href="/c/{first}"' in page and f'href="/c/{second}"' in page
    assert re.search(r"Grace Hopper</td>\s*<td><time[^>]*>\d{4}-\d\d-\d\d</time></td>", page)
    assert "<td>suspended</td>" in page and "<td>active</td>" in page


def test_the_list_is_paginated_fifty_a_page(app, admin):
    for number in range(51):
        issue(app, f"Learner {number:02d}", f"Badge {number:02d}")
    first = admin.get("/admin/credentials").get_data(as_text=True)
    assert listed_rows(first) == [f"Badge {number:02d}" for number in range(50, 0, -1)]
    assert 'rel="next" href="/admin/credentials?page=2"' in first
    assert 'rel="prev"' not in first
    second = admin.get("/admin/credentials?page=2").get_data(as_text=True)
    assert listed_rows(second) == ["Badge 00"]
    assert 'rel="prev" href="/admin/credentials?page=1"' in second
    beyond = admin.get("/admin/credentials?page=3")
    assert beyond.status_code == 200
    assert listed_rows(beyond.get_data(as_text=True)) == []
    assert listed_rows(admin.get("/admin/credentials?page=-4").get_data(as_text=True))[0] == (
        "Badge 50"
    )
    huge = admin.get(f"/admin/credentials?page={10**20}")
    assert huge.status_code == 200 and "There is no page" in huge.get_data(as_text=True)
    searched = admin.get("/admin/credentials?q=learner").get_data(as_text=True)
    assert 'href="/admin/credentials?q=learner&amp;page=2"' in searched


def test_an_unreadable_page_number_or_a_long_query_falls_back_quietly(app, admin):
    issue(app, "Ada Lovelace", "Teamwork")
    for page in ("x", "", "0", "1.5"):
        response = admin.get(f"/admin/credentials?page={page}")
        assert response.status_code == 200
        assert listed_rows(response.get_data(as_text=True)) == ["Teamwork"]
    padded = admin.get("/admin/credentials?q=%20%20Ada%20%20").get_data(as_text=True)
    assert listed_rows(padded) == ["Teamwork"] and 'value="Ada"' in padded
    long = admin.get("/admin/credentials?q=" + "a" * 300).get_data(as_text=True)
    assert f'value="{"a" * 200}"' in long and listed_rows(long) == []


def test_the_count_is_exact_up_to_the_limit_and_more_than_beyond_it(app, admin):
    for number in range(4):
        issue(app, f"Learner {number}", f"Badge {number}")
    app.config["CREDFOLIO_LIST_COUNT_LIMIT"] = 4
    exact = admin.get("/admin/credentials").get_data(as_text=True)
    assert re.search(r"4 credentials,\s+newest first \(page 1 of 1\)", exact)
    app.config["CREDFOLIO_LIST_COUNT_LIMIT"] = 3
    capped = admin.get("/admin/credentials").get_data(as_text=True)
    assert re.search(r"More than 3 credentials,\s+newest first \(page 1\)", capped)
    assert listed_rows(capped) == ["Badge 3", "Badge 2", "Badge 1", "Badge 0"]
    assert 'rel="next"' not in capped  # all four fit on the page


#: search text → the achievements listed (newest first); one issuer's credentials only.
SEARCHES = {
    "ada": ["Teamwork"],  # not the other school's "Ada Byron"
    "HOPPER": ["Robotics"],
    "robot": ["Robotics"],
    "1%": ["Top 1% Reader"],
    "%": ["Top 1% Reader"],  # LIKE wildcards are searched for, not interpreted
    "_": [],
    "did:example:ebfeb1f712ebc6f1c276e12ec21": ["Top 1% Reader", "Robotics", "Teamwork"],
    "nobody": [],
}


def test_search_by_recipient_or_achievement_within_the_issuer(app, admin):
    issue(app, "Ada Lovelace", "Teamwork")
    issue(app, "Ada Byron", "Foreign Badge", other=True)
    issue(app, "Grace Hopper", "Robotics")
    issue(app, "Alan Turing", "Top 1% Reader")
    found = {}
    for query in SEARCHES:
        response = admin.get("/admin/credentials", query_string={"q": query})
        assert response.status_code == 200
        found[query] = listed_rows(response.get_data(as_text=True))
    assert found == SEARCHES


# -- the details page ------------------------------------------------------------------------


def test_the_details_page_shows_the_credential_and_its_history(app, admin):
    public_id = suspended(app, issue(app, "Ada Lovelace", "Teamwork"), "Plagiarism report")
    page = admin.get(f"/admin/credentials/{public_id}").get_data(as_text=True)
    assert "<h1>Teamwork</h1>" in page
    assert "Ada Lovelace" in page
    assert "State: <strong>suspended</strong>" in page
    assert re.search(r"<td>Issued</td>\s*<td>—</td>", page)
    assert re.search(r"<td>Suspended</td>\s*<td>Plagiarism report</td>", page)
    assert "Unsuspend" in page and ">Suspend</button>" not in page


# -- suspending and unsuspending -------------------------------------------------------------


def test_suspending_through_the_page_makes_verifiers_report_it(app, admin):
    public_id = issue(app)
    state, checks = state_and_checks(app, public_id)
    assert (state, checks["suspension"], checks["revocation"]) == ("active", "passed", "passed")
    response = admin.post(
        f"/admin/credentials/{public_id}/suspend", data={"suspend-reason": "Plagiarism report"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/credentials/{public_id}"
    state, checks = state_and_checks(app, public_id)
    assert (state, checks["suspension"], checks["revocation"]) == ("suspended", "failed", "passed")
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "The credential is suspended." in page
    assert re.search(r"<td>Suspended</td>\s*<td>Plagiarism report</td>", page)


def test_unsuspending_through_the_page_makes_it_verify_again(app, admin):
    public_id = suspended(app, issue(app))
    assert state_and_checks(app, public_id)[1]["suspension"] == "failed"
    response = admin.post(f"/admin/credentials/{public_id}/unsuspend", data={})
    assert response.status_code == 303
    state, checks = state_and_checks(app, public_id)
    assert (state, checks["suspension"]) == ("active", "passed")
    assert "The suspension is lifted." in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_suspension_needs_a_reason(app, admin):
    public_id = issue(app)
    response = admin.post(f"/admin/credentials/{public_id}/suspend", data={"suspend-reason": " "})
    assert response.status_code == 422
    assert re.search(
        r'id="suspend-reason-error"[^>]*>Give a reason\.<', response.get_data(as_text=True)
    )
    assert state_and_checks(app, public_id)[0] == "active"


def test_a_refusal_of_the_service_is_shown_as_a_readable_message(app, admin):
    public_id = suspended(app, issue(app))
    response = admin.post(
        f"/admin/credentials/{public_id}/suspend", data={"suspend-reason": "Again"}
    )
    assert response.status_code == 409
    assert '<p role="alert"><strong>The credential is already suspended.</strong></p>' in (
        response.get_data(as_text=True)
    )


# -- revoking --------------------------------------------------------------------------------


def test_revoking_asks_for_a_confirmation_first(app, admin):
    public_id = issue(app)
    details = admin.get(f"/admin/credentials/{public_id}").get_data(as_text=True)
    assert f'href="/admin/credentials/{public_id}/revoke"' in details
    confirm = admin.get(f"/admin/credentials/{public_id}/revoke").get_data(as_text=True)
    assert "Revocation is final." in confirm
    assert 'type="checkbox"' in confirm and 'name="confirm"' in confirm
    assert state_and_checks(app, public_id)[0] == "active"


def test_revoking_without_ticking_the_confirmation_changes_nothing(app, admin):
    public_id = issue(app)
    response = admin.post(
        f"/admin/credentials/{public_id}/revoke", data={"reason": "Awarded in error"}
    )
    assert response.status_code == 422
    assert "Tick the box to confirm the revocation." in response.get_data(as_text=True)
    assert state_and_checks(app, public_id)[0] == "active"


def test_revoking_without_a_reason_changes_nothing(app, admin):
    public_id = issue(app)
    response = admin.post(f"/admin/credentials/{public_id}/revoke", data={"confirm": "y"})
    assert response.status_code == 422
    assert "Give a reason." in response.get_data(as_text=True)
    assert state_and_checks(app, public_id)[0] == "active"


def test_a_confirmed_revocation_makes_verifiers_report_it_for_good(app, admin):
    public_id = issue(app)
    response = admin.post(
        f"/admin/credentials/{public_id}/revoke",
        data={"reason": "Awarded in error", "confirm": "y"},
    )
    assert response.status_code == 303
    state, checks = state_and_checks(app, public_id)
    assert (state, checks["revocation"]) == ("revoked", "failed")
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "The credential is revoked." in page
    assert re.search(r"<td>Revoked</td>\s*<td>Awarded in error</td>", page)
    assert "<form" not in page.split("<main", 1)[1]  # nothing left to change
    again = admin.post(
        f"/admin/credentials/{public_id}/revoke", data={"reason": "Twice", "confirm": "y"}
    )
    assert again.status_code == 409
    assert "The credential is revoked; revocation is final." in again.get_data(as_text=True)
    unsuspend = admin.post(f"/admin/credentials/{public_id}/unsuspend", data={})
    assert unsuspend.status_code == 409
    assert state_and_checks(app, public_id)[1]["revocation"] == "failed"


def test_a_suspended_credential_can_be_revoked(app, admin):
    public_id = suspended(app, issue(app))
    response = admin.post(
        f"/admin/credentials/{public_id}/revoke", data={"reason": "Confirmed", "confirm": "y"}
    )
    assert response.status_code == 303
    assert state_and_checks(app, public_id)[1]["revocation"] == "failed"


# -- CSRF ------------------------------------------------------------------------------------


def _token(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" type="hidden" value="([^"]+)"', page)
    assert match, f"no {name} in the page"
    return match.group(1)


def test_the_action_forms_carry_csrf_tokens_and_need_them(app, admin):
    app.config["WTF_CSRF_ENABLED"] = True
    public_id = issue(app)
    details = admin.get(f"/admin/credentials/{public_id}").get_data(as_text=True)
    without = admin.post(
        f"/admin/credentials/{public_id}/suspend", data={"suspend-reason": "Review"}
    )
    assert without.status_code == 400
    assert state_and_checks(app, public_id)[0] == "active"
    with_token = admin.post(
        f"/admin/credentials/{public_id}/suspend",
        data={
            "suspend-reason": "Review",
            "suspend-csrf_token": _token(details, "suspend-csrf_token"),
        },
    )
    assert with_token.status_code == 303
    confirm = admin.get(f"/admin/credentials/{public_id}/revoke").get_data(as_text=True)
    revoked = admin.post(
        f"/admin/credentials/{public_id}/revoke",
        data={"reason": "Final", "confirm": "y", "csrf_token": _token(confirm, "csrf_token")},
    )
    assert revoked.status_code == 303
    assert state_and_checks(app, public_id)[0] == "revoked"
