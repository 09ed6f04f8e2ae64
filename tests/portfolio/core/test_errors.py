"""One error hierarchy: a service raises a kind of refusal, and one table maps each kind to the
status a page or the JSON API answers with."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint

from portfolio.core.errors import (
    ConflictError,
    CredfolioError,
    InvalidInputError,
    NotAllowedError,
    NotFoundError,
    UnavailableError,
    register_api_errors,
    status_for,
)


class _TooLate(ConflictError):
    code = "TOO_LATE"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInputError("no"), 422),
        (NotFoundError("no"), 404),
        (ConflictError("no"), 409),
        (NotAllowedError("no"), 403),
        (UnavailableError("no"), 503),
        (CredfolioError("no"), 400),
        (_TooLate("no"), 409),
    ],
)
def test_each_kind_of_refusal_has_one_status(error: CredfolioError, status: int) -> None:
    assert status_for(error) == status


def test_a_refusal_keeps_its_code_and_safe_message() -> None:
    assert (_TooLate("the round is closed").code, str(_TooLate("x"))) == ("TOO_LATE", "x")
    assert InvalidInputError("bad", code="BAD_LEVEL").code == "BAD_LEVEL"
    assert InvalidInputError("bad").code == "INVALID_INPUT"


def _raising_app(app: Any, error: CredfolioError) -> Any:
    api = Blueprint("test_api_errors", __name__, url_prefix="/test-api")
    register_api_errors(api, prefixes=("/test-api",))
    pages = Blueprint("test_page_errors", __name__)

    @api.get("/refuse")
    def refuse_json() -> None:
        raise error

    @pages.get("/test-page/refuse")
    def refuse_page() -> None:
        raise error

    app.register_blueprint(api)
    app.register_blueprint(pages)
    return app.test_client()


def test_the_json_api_answers_a_refusal_with_its_status_and_code(app: Any) -> None:
    client = _raising_app(app, _TooLate("the round is closed"))
    answer = client.get("/test-api/refuse")
    assert answer.status_code == 409
    assert answer.get_json() == {"error": "TOO_LATE", "detail": "the round is closed"}


def test_a_page_answers_an_unhandled_refusal_with_a_readable_page(app: Any) -> None:
    client = _raising_app(app, NotAllowedError("Only the school's administrators may do this."))
    answer = client.get("/test-page/refuse")
    assert answer.status_code == 403
    assert answer.mimetype == "text/html"
    assert "Only the school&#39;s administrators may do this." in answer.get_data(as_text=True)
