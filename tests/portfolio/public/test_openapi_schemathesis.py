"""schemathesis against the app's own OpenAPI document (``/api/openapi.json``), in-process.

The schema is loaded from the running app over WSGI (no network) and every operation it
describes is exercised with requests generated from it — schema-valid ("positive") and
schema-invalid ("negative") ones — and schemathesis's checks run on each answer: never a 5xx
(``not_a_server_error``), the status code, content type, headers and body documented
(``status_code_conformance``, ``content_type_conformance``, ``response_headers_conformance``,
``response_schema_conformance``), invalid requests refused (``negative_data_rejection``), and
the rest of its default checks.

One check is left out, on purpose: ``positive_data_acceptance`` expects a request that matches
the schema to be accepted.  A verifier's request schema can only say "a JSON object with
``@context``, ``type``, ``issuer``…"; whether the object is a credential that can be judged
(bundled contexts, defined terms, a supported proof) cannot be written in JSON Schema, so
schema-valid bodies are rightly refused with 400.

``schemathesis.pytest.from_fixture`` (its lazy loader) does not work with pytest 9.2 (it sets
``Function._nodeid``, which pytest removed), so each test builds the schema from the ``app``
fixture and runs one operation's strategy under ``@given``.  Reproducible by default; set
``CREDFOLIO_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from portfolio.accounts.issuers import default_issuer
from portfolio.public.openapi import openapi_document
from tests.conftest import TEST_KEK
from tests.credentials.test_properties import _FUZZ_EXAMPLES
from tests.portfolio.issuing.test_oauth import bearer, create_client, get_token

_DOCUMENT = openapi_document(server_url="https://credfolio.test")
#: Every operation of the document as (method, path, generation mode): schema-valid requests for
#: all, schema-invalid ones for those with a request body (a path of strings has no invalid
#: value).  Issuing is tested apart, with and without a token.
CASES = [
    (method.upper(), path, mode)
    for path, item in _DOCUMENT["paths"].items()
    for method, operation in item.items()
    if path != "/credentials/issue"
    for mode in (
        [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        if "requestBody" in operation
        else [GenerationMode.POSITIVE]
    )
]
#: Few examples per operation by default: generating bodies from the credential schemas is slow
#: and the OAuth token endpoint hashes a client secret (argon2) on every request.
DEFAULT_EXAMPLES = 6


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app for every test of this module (as tests/conftest.py's ``app``, built once: an
    app per operation would cost more than the operation's examples).  Only this fixture makes
    an app here, so on PostgreSQL no other app drops its tables mid-module."""
    from portfolio.core.db import db
    from wsgi import create_app

    folder = tmp_path_factory.mktemp("schemathesis")
    url = os.environ.get("CREDFOLIO_DATABASE_URL") or f"sqlite:///{folder / 'test.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "SQLALCHEMY_DATABASE_URI": url,
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="module")
def shared_token(shared_app: Any) -> str:
    """A bearer token of a VC-API client of the shared app's default issuer (as the ``token``
    fixture of tests/portfolio/issuing/test_oauth.py, on the module's app)."""

    with shared_app.app_context():
        issuer = default_issuer()
        shared_app.extensions["credfolio"].key_store.create(issuer.did)
    credentials = create_client(shared_app.test_cli_runner())
    return get_token(shared_app.test_client(), credentials)


def _settings(default_examples: int) -> settings:
    return settings(
        max_examples=_FUZZ_EXAMPLES or default_examples,
        derandomize=not _FUZZ_EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def _routed_to(app: Any, operation: Any, case: Any) -> bool:
    """Whether the generated URL reaches the view the operation describes.

    ``/{path}/did.json`` with a single segment that another route owns (``/c/did.json`` is the
    credential page of a credential named ``did.json``) never reaches the DID document view.
    Such URLs are not what the operation describes; they are skipped (see docs/security-testing.md).
    """
    if operation.path != "/{path}/did.json":
        return True
    adapter = app.url_map.bind("credfolio.test")
    try:
        endpoint, _ = adapter.match(case.formatted_path, method=operation.method.upper())
    except Exception:  # any routing failure (404, 405): let the request show it
        return True
    return endpoint == "api.path_did_document"


def run_operation(
    app: Any,
    method: str,
    path: str,
    mode: GenerationMode,
    *,
    headers: dict[str, str] | None = None,
    examples: int = DEFAULT_EXAMPLES,
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operation = schema[path][method]

    @_settings(examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        if not _routed_to(app, operation, case):
            return
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()


@pytest.mark.parametrize(
    ("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES]
)
def test_every_public_operation_answers_as_documented(
    shared_app: Any, method: str, path: str, mode: GenerationMode
) -> None:
    run_operation(shared_app, method, path, mode)


def test_issuing_without_a_token_is_a_documented_401(shared_app: Any) -> None:
    run_operation(shared_app, "POST", "/credentials/issue", GenerationMode.POSITIVE, examples=3)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_issuing_with_a_token_answers_as_documented(
    shared_app: Any, shared_token: str, mode: GenerationMode
) -> None:
    """The one operation behind a token, with a valid token (without one it is always 401)."""
    run_operation(shared_app, "POST", "/credentials/issue", mode, headers=bearer(shared_token))
