"""Prometheus metrics (portfolio/core/metrics.py): the service's counters move when a credential is
issued, verified or revoked — only once its transaction commits — failed verifications count the
failing check, request latencies are labelled by URL rule, and /metrics answers only loopback
clients or the bearer token."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from portfolio.core import metrics
from portfolio.core.db import db
from portfolio.issuing import service as services
from tests.conftest import TEST_KEK, unsigned_badge
from wsgi import create_app

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """How much a counter moved while the ``with`` block ran (the registry is per process)."""

    def __init__(self, name: str, **labels: str) -> None:
        self.name, self.labels = name, labels

    def __enter__(self) -> Delta:
        self.before = sample(self.name, **self.labels)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.moved = sample(self.name, **self.labels) - self.before


@pytest.fixture
def credential(app: Any, issuer: Any) -> Iterator[Any]:
    yield services.issue(unsigned_badge(), issuer=issuer)


def verify(client: Any, document: Any) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": document})


def test_an_issued_credential_is_counted_once_committed(app, issuer):
    with Delta("credfolio_credentials_issued_total") as issued:
        services.issue(unsigned_badge(), issuer=issuer)
    assert issued.moved == 1


def test_a_credential_rolled_back_is_not_counted(app, issuer):
    with Delta("credfolio_credentials_issued_total") as issued:
        services.issue_in_transaction(unsigned_badge(), issuer=issuer)
        db.session.rollback()
    assert issued.moved == 0


def test_revocations_are_counted_and_suspensions_are_not(app, credential):
    with Delta("credfolio_credentials_revoked_total") as revoked:
        services.set_status(credential, "suspend", reason="under review")
    assert revoked.moved == 0
    with Delta("credfolio_credentials_revoked_total") as revoked:
        services.set_status(credential, "revoke", reason="issued in error")
    assert revoked.moved == 1


def test_verifications_are_counted_by_result(client, credential):
    document = json.loads(credential.document)
    with Delta("credfolio_credentials_verified_total", result="verified") as verified:
        assert verify(client, document).status_code == 200
    assert verified.moved == 1

    tampered = copy.deepcopy(document)
    tampered["name"] = "Something else"
    with (
        Delta("credfolio_credentials_verified_total", result="not_verified") as failed,
        Delta("credfolio_verification_failures_total", check="proof", status="failed") as proof,
    ):
        assert verify(client, tampered).status_code == 422
    assert (failed.moved, proof.moved) == (1, 1)

    outside = {**document, "@context": [*document["@context"], "https://contexts.example/x"]}
    with Delta("credfolio_credentials_verified_total", result="malformed") as malformed:
        assert verify(client, outside).status_code == 400
    assert malformed.moved == 1


def test_a_revoked_credential_counts_a_revocation_failure(client, credential):
    services.set_status(credential, "revoke", reason="issued in error")
    with Delta("credfolio_verification_failures_total", check="revocation", status="failed") as d:
        assert verify(client, json.loads(credential.document)).status_code == 422
    assert d.moved == 1


def test_the_verify_page_is_counted_too(app, client, credential):
    app.config["WTF_CSRF_ENABLED"] = False
    with Delta("credfolio_credentials_verified_total", result="verified") as verified:
        response = client.post("/verify", data={"credential": credential.document})
    assert response.status_code == 200
    assert verified.moved == 1


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("proof", "proof"),
        ("proof[3]", "proof"),
        ("key-status", "key-status"),
        ("revocation", "revocation"),
        ("<script>", "other"),
        ("x" * 500, "other"),
    ],
)
def test_check_labels_are_a_bounded_set(name, label):
    assert metrics.check_label(name) == label


def test_metrics_page_has_the_counters_and_latency_by_url_rule(client, credential):
    assert client.get(f"/c/{credential.public_id}").status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    assert "credfolio_credentials_issued_total" in text
    assert 'credfolio_credentials_verified_total{result="malformed"}' in text
    assert 'rule="/c/<public_id>"' in text
    assert credential.public_id not in text  # no raw paths: bounded label values


def test_credentials_by_state_are_read_from_the_database_at_each_scrape(app, client, issuer):
    """Issue 18 §8: a status change made by a `credfolio` command (another process, whose
    counters the server never sees) did not show in the metrics."""
    first = services.issue(unsigned_badge(), issuer=issuer)
    services.issue(unsigned_badge(), issuer=issuer)
    page = client.get("/metrics").get_data(as_text=True)
    assert 'credfolio_credentials{state="active"} 2.0' in page
    result = app.test_cli_runner().invoke(
        args=["credentials", "revoke", first.public_id, "--reason", "issued in error"]
    )
    assert result.exit_code == 0, result.output
    page = client.get("/metrics").get_data(as_text=True)
    assert 'credfolio_credentials{state="active"} 1.0' in page
    assert 'credfolio_credentials{state="revoked"} 1.0' in page
    assert 'credfolio_credentials{state="suspended"} 0.0' in page


def test_metrics_are_hidden_from_remote_clients_without_a_token(client):
    assert client.get("/metrics").status_code == 200  # the test client is a loopback client
    assert client.get("/metrics", environ_base=REMOTE).status_code == 404


def test_a_bearer_token_lets_remote_scrapers_in(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_METRICS_TOKEN": "scrape-me-please-0123456789",
        }
    )
    client = app.test_client()
    good = {"Authorization": "Bearer scrape-me-please-0123456789"}
    assert client.get("/metrics", environ_base=REMOTE, headers=good).status_code == 200
    wrong = {"Authorization": "Bearer guess"}
    assert client.get("/metrics", environ_base=REMOTE, headers=wrong).status_code == 403
    assert client.get("/metrics", environ_base=REMOTE).status_code == 403


def test_a_request_relayed_by_an_untrusted_proxy_is_no_loopback_client(client):
    # nginx on the same host, CREDFOLIO_TRUSTED_PROXIES unset: the peer is 127.0.0.1, but the
    # request comes from somewhere else.
    relayed = {"X-Forwarded-For": "198.51.100.4"}
    assert client.get("/metrics", headers=relayed).status_code == 404


def test_credentials_inside_a_presentation_are_counted(client, credential):
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [json.loads(credential.document)],
    }
    with Delta("credfolio_credentials_verified_total", result="verified") as verified:
        client.post("/presentations/verify", json={"verifiablePresentation": vp})
    assert verified.moved == 1


def test_behind_a_trusted_proxy_the_forwarded_client_decides(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_TRUSTED_PROXIES": "1",
        }
    )
    client = app.test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics").status_code == 200  # a scraper on the host itself
