"""The OpenAPI 3.1 description of Credfolio's JSON API, written by hand as plain data (served at
``/api/openapi.json``; a test checks that every JSON route of the app is described)."""

from __future__ import annotations

import copy
from typing import Any

#: The blueprints whose routes are JSON endpoints (and must all appear in the document).
JSON_BLUEPRINTS = ("api", "vcapi", "oauth")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], media_type: str = "application/json") -> dict[str, Any]:
    return {"content": {media_type: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Error"))}


_COMMON_ERRORS = {
    "413": _error("The request body is larger than 1 MiB."),
    "415": _error("The body is not declared as application/json."),
    "500": _error("An internal error; the body never contains a stack trace or key material."),
}

_ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "description": "A stable machine-readable code."},
            "detail": {"type": "string", "description": "A message safe to show anyone."},
        },
    },
    "Check": {
        "type": "object",
        "required": ["name", "status", "detail"],
        "properties": {
            "name": {"type": "string", "examples": ["proof", "revocation", "valid-until"]},
            "status": {"enum": ["passed", "failed", "not-applicable", "unknown", "warning"]},
            "detail": {"type": "string"},
        },
    },
    "VerificationResult": {
        "type": "object",
        "required": ["verified", "checks", "warnings", "errors"],
        "properties": {
            "verified": {"type": "boolean"},
            "checks": {"type": "array", "items": _ref("Check")},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "errors": {"type": "array", "items": {"type": "string"}},
            "dataModel": {
                "enum": ["VC 2.0", "VC 1.1"],
                "description": "The VC data model, named by the first @context.",
            },
            "legacyProofs": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Proofs of a kind older than Data Integrity 1.0 "
                "(Ed25519Signature2020, the eddsa-2022 cryptosuite name).",
            },
        },
    },
    "MalformedVerification": {
        "description": "Malformed input: the error, and the checks that ran before it.",
        "allOf": [
            _ref("Error"),
            {
                "type": "object",
                "properties": {
                    "verified": {"const": False},
                    "checks": {"type": "array", "items": _ref("Check")},
                },
            },
        ],
    },
    "Credential": {
        "description": "A W3C VC 2.0 credential (for Open Badges 3.0, an OpenBadgeCredential).",
        "type": "object",
        "required": ["@context", "type", "credentialSubject"],
        "properties": {
            "@context": {
                "type": "array",
                "prefixItems": [{"const": "https://www.w3.org/ns/credentials/v2"}],
            },
            "type": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "issuer": {"oneOf": [{"type": "string"}, _ANY_OBJECT]},
            "credentialSubject": {"oneOf": [_ANY_OBJECT, {"type": "array", "items": _ANY_OBJECT}]},
            "validFrom": {"type": "string", "format": "date-time"},
            "validUntil": {"type": "string", "format": "date-time"},
        },
        "additionalProperties": True,
    },
    "VerifiableCredential": {
        "allOf": [_ref("Credential"), {"type": "object", "required": ["issuer", "proof"]}],
    },
    "IssueRequest": {
        "type": "object",
        "required": ["credential"],
        "additionalProperties": False,
        "properties": {
            "credential": _ref("Credential"),
            "options": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "credentialStatus": {
                        "type": "object",
                        "properties": {"type": {"const": "BitstringStatusListEntry"}},
                    }
                },
            },
        },
    },
    "IssueResponse": {
        "type": "object",
        "required": ["verifiableCredential"],
        "properties": {"verifiableCredential": _ref("VerifiableCredential")},
    },
    "VerifyRequest": {
        "type": "object",
        "required": ["verifiableCredential"],
        "additionalProperties": False,
        "properties": {
            "verifiableCredential": _ref("VerifiableCredential"),
            "options": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "checks": {"type": "array", "items": {"type": "string"}},
                    "controllerDocuments": {
                        "description": "DID documents or HTTPS controller documents (W3C "
                        "Controlled Identifiers 1.0), by id, for verification methods the "
                        "service cannot resolve itself; never used for its own issuers.",
                        "type": "array",
                        "maxItems": 8,
                        "items": {
                            "type": "object",
                            "required": ["id"],
                            "properties": {"id": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
    "PresentationVerifyRequest": {
        "type": "object",
        "required": ["verifiablePresentation"],
        "additionalProperties": False,
        "properties": {
            "verifiablePresentation": {
                "type": "object",
                "required": ["@context", "type"],
                "additionalProperties": True,
                "properties": {
                    "holder": {"oneOf": [{"type": "string"}, _ANY_OBJECT]},
                    "verifiableCredential": {
                        "oneOf": [
                            _ref("VerifiableCredential"),
                            {"type": "array", "items": _ref("VerifiableCredential")},
                        ]
                    },
                    "proof": {"oneOf": [_ANY_OBJECT, {"type": "array", "items": _ANY_OBJECT}]},
                },
            },
            "options": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "challenge": {"type": "string"},
                    "domain": {"type": "string"},
                    "checks": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
    "PresentationVerificationResult": {
        "type": "object",
        "required": ["verified", "checks", "credentialResults", "warnings", "errors"],
        "properties": {
            "verified": {"type": "boolean"},
            "checks": {
                "description": "presentation-contexts, presentation-proof, holder, challenge, "
                "domain.",
                "type": "array",
                "items": _ref("Check"),
            },
            "credentialResults": {
                "type": "array",
                "items": {"oneOf": [_ref("VerificationResult"), _ref("MalformedVerification")]},
            },
            "warnings": {"type": "array", "items": {"type": "string"}},
            "errors": {"type": "array", "items": {"type": "string"}},
        },
    },
    "TokenRequest": {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"const": "client_credentials"},
            "scope": {"const": "issue"},
            "client_id": {"type": "string", "description": "client_secret_post only"},
            "client_secret": {"type": "string", "description": "client_secret_post only"},
        },
    },
    "TokenResponse": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {
            "access_token": {"type": "string"},
            "token_type": {"const": "Bearer"},
            "expires_in": {"const": 600},
            "scope": {"const": "issue"},
        },
    },
    "TokenError": {
        "description": "RFC 6749 §5.2, plus `detail` (the same text) like every other error.",
        "type": "object",
        "required": ["error", "detail"],
        "properties": {
            "error": {
                "enum": [
                    "invalid_request",
                    "invalid_client",
                    "invalid_grant",
                    "unauthorized_client",
                    "unsupported_grant_type",
                    "invalid_scope",
                ]
            },
            "error_description": {"type": "string"},
            "detail": {"type": "string"},
        },
    },
    "DidDocument": {
        "type": "object",
        "required": ["@context", "id", "verificationMethod", "assertionMethod"],
        "properties": {
            "@context": {"type": "array", "items": {"type": "string"}},
            "id": {"type": "string", "pattern": "^did:web:"},
            "verificationMethod": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "type", "controller", "publicKeyMultibase"],
                    "properties": {
                        "id": {"type": "string"},
                        "type": {"const": "Multikey"},
                        "controller": {"type": "string"},
                        "publicKeyMultibase": {"type": "string", "pattern": "^z6Mk"},
                    },
                },
            },
            "authentication": {"type": "array", "items": {"type": "string"}},
            "assertionMethod": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Profile": {
        "description": "An Open Badges 3.0 Profile with its JSON-LD contexts.",
        "type": "object",
        "required": ["@context", "id", "type", "name"],
        "properties": {
            "@context": {"type": "array", "items": {"type": "string"}},
            "id": {"type": "string"},
            "type": {"type": "array", "items": {"type": "string"}},
            "name": {"type": "string"},
            "url": {"type": "string"},
            "email": {"type": "string"},
            "description": {"type": "string"},
            "image": _ANY_OBJECT,
        },
    },
    "Achievement": {
        "description": "An Open Badges 3.0 Achievement as last issued.",
        "type": "object",
        "required": ["id", "type"],
        "additionalProperties": True,
    },
    "BitstringStatusListCredential": {
        "description": "A signed credential whose subject is a BitstringStatusList "
        "(Bitstring Status List v1.0 §2.2).",
        "allOf": [_ref("VerifiableCredential")],
    },
}

_BEARER = [{"oauth2": ["issue"]}]


def _paths() -> dict[str, Any]:
    """Every path of the API, group by group, in the order the document lists them."""
    return {
        **_issue_paths(),
        **_verify_paths(),
        **_oauth_paths(),
        **_status_paths(),
        **_did_paths(),
        **_public_paths(),
    }


def _issue_paths() -> dict[str, Any]:
    """The VC-API issue endpoint (a bearer token with the ``issue`` scope)."""
    return {
        "/credentials/issue": {
            "post": {
                "operationId": "issueCredential",
                "summary": "Issue (sign and store) a credential as the client's issuer.",
                "description": "W3C VC-API Issue Credential.  Adds `id`, `validFrom` (VC 1.1: "
                "`issuanceDate`) and a Bitstring status entry (revocation; a second, suspension, "
                "when the issuer offers suspension) -- unless the credential brings its own "
                "`credentialStatus`, kept as given (ours are added after it only with "
                "`options.credentialStatus`) -- and signs with eddsa-rdfc-2022.  A generic VC "
                "1.1 credential is signed as given.  With `Idempotency-Key`, a retry with the "
                "same body returns the same credential (200, `Idempotent-Replayed: true`).",
                "security": _BEARER,
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                ],
                "requestBody": {"required": True, **_json(_ref("IssueRequest"))},
                "responses": {
                    "201": {"description": "Issued.", **_json(_ref("IssueResponse"))},
                    "200": {
                        "description": "Replayed: this Idempotency-Key already issued it.",
                        "headers": {"Idempotent-Replayed": {"schema": {"const": "true"}}},
                        **_json(_ref("IssueResponse")),
                    },
                    "400": _error(
                        "Malformed body or credential, or a broken VC Data Model 2.0 rule "
                        "(the problem is named: e.g. `INVALID_ID`, `MISSING_TYPE`, "
                        "`DIGEST_MISMATCH`, `DATA_LOSS_DETECTION_ERROR`)."
                    ),
                    "401": _error(
                        "Missing, unknown, expired or revoked bearer token "
                        "(`WWW-Authenticate: Bearer`)."
                    ),
                    "403": _error("The token lacks the scope `issue` (insufficient_scope)."),
                    "422": _error(
                        "Refused: issuer not ours, not a valid Open Badge, or an "
                        "Idempotency-Key reused with another body."
                    ),
                    **_COMMON_ERRORS,
                },
            }
        },
    }


def _verify_paths() -> dict[str, Any]:
    """The VC-API verify endpoints: credentials and presentations."""
    verify_responses = {
        "200": {"description": "Verified.", **_json(_ref("VerificationResult"))},
        "400": {
            "description": "Malformed: not JSON, not an object, a missing member, an unknown "
            "option, a context outside the allow-list, an undefined term..., or more work than "
            "one request may use (`WORK_BUDGET_EXCEEDED`).",
            **_json(_ref("MalformedVerification")),
        },
        "422": {
            "description": "Not verified: a check failed (the failing check is named) or could "
            "not be decided.",
            **_json(_ref("VerificationResult")),
        },
        **_COMMON_ERRORS,
    }
    return {
        "/credentials/verify": {
            "post": {
                "operationId": "verifyCredential",
                "summary": "Verify a credential and report every check.",
                "security": [],
                "requestBody": {"required": True, **_json(_ref("VerifyRequest"))},
                "responses": verify_responses,
            }
        },
        "/presentations/verify": {
            "post": {
                "operationId": "verifyPresentation",
                "summary": "Verify a presentation: the holder's proof and every credential.",
                "security": [],
                "requestBody": {"required": True, **_json(_ref("PresentationVerifyRequest"))},
                "responses": {
                    "200": {
                        "description": "Verified.",
                        **_json(_ref("PresentationVerificationResult")),
                    },
                    "400": _error(
                        "Malformed presentation or body, or more work than one request may use "
                        "(`WORK_BUDGET_EXCEEDED`, for the presentation as a whole)."
                    ),
                    "422": {
                        "description": "Not verified.",
                        **_json(_ref("PresentationVerificationResult")),
                    },
                    **_COMMON_ERRORS,
                },
            }
        },
    }


def _oauth_paths() -> dict[str, Any]:
    """The OAuth 2.0 token endpoint (client credentials grant)."""
    return {
        "/oauth/token": {
            "post": {
                "operationId": "token",
                "summary": "OAuth 2.0 client credentials grant (RFC 6749 §4.4).",
                "description": "Client authentication: HTTP Basic (client_secret_basic) or "
                "form parameters (client_secret_post).  Tokens last 10 minutes.",
                "security": [{"clientBasic": []}, {}],
                "requestBody": {
                    "required": True,
                    **_json(_ref("TokenRequest"), "application/x-www-form-urlencoded"),
                },
                "responses": {
                    "200": {"description": "A bearer token.", **_json(_ref("TokenResponse"))},
                    "400": {"description": "RFC 6749 §5.2 error.", **_json(_ref("TokenError"))},
                    "401": {
                        "description": "Client authentication failed (invalid_client).",
                        **_json(_ref("TokenError")),
                    },
                    "413": _COMMON_ERRORS["413"],
                    "500": _COMMON_ERRORS["500"],
                },
            }
        },
    }


def _status_paths() -> dict[str, Any]:
    """The signed status lists."""
    return {
        "/status/{public_id}": {
            "get": {
                "operationId": "statusList",
                "summary": "A signed BitstringStatusListCredential, exactly as stored.",
                "parameters": [
                    {
                        "name": "public_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
                    {"name": "If-Modified-Since", "in": "header", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "The status list credential.",
                        "headers": {
                            "ETag": {"schema": {"type": "string"}},
                            "Last-Modified": {"schema": {"type": "string"}},
                            "Cache-Control": {"schema": {"const": "public, max-age=60"}},
                        },
                        **_json(_ref("BitstringStatusListCredential"), "application/ld+json"),
                    },
                    "304": {"description": "Not modified (RFC 7232 §4.1)."},
                    "404": _error("No such status list."),
                },
            }
        },
    }


def _did_paths() -> dict[str, Any]:
    """The did:web documents: the service issuer's, and those with a path."""
    did_document = {
        "description": "The DID document (active and rotated-out keys under assertionMethod).",
        "headers": {"Cache-Control": {"schema": {"const": "public, max-age=300"}}},
        **_json(_ref("DidDocument"), "application/did+json"),
    }
    return {
        "/.well-known/did.json": {
            "get": {
                "operationId": "didDocument",
                "summary": "The service issuer's did:web document.",
                "responses": {"200": did_document},
            }
        },
        "/{path}/did.json": {
            "get": {
                "operationId": "pathDidDocument",
                "summary": "did:web with a path: did:web:<host>:a:b → /a/b/did.json.",
                "parameters": [
                    {
                        "name": "path",
                        "in": "path",
                        "required": True,
                        "description": "One or more path segments separated by '/'.  A single "
                        "segment that names one of the service's own pages (c, p, issuers, "
                        "status, achievements, evidence, ...) reaches that page instead: such "
                        "DID paths cannot be served.",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"200": did_document, "404": _error("No issuer has that DID.")},
            }
        },
    }


def _public_paths() -> dict[str, Any]:
    """Public JSON-LD documents (issuer profiles, achievements) and this document."""
    return {
        "/issuers/{slug}": {
            "get": {
                "operationId": "issuerProfile",
                "summary": "An issuer's Open Badges 3.0 Profile (JSON-LD).",
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "The profile.",
                        **_json(_ref("Profile"), "application/ld+json"),
                    },
                    "404": _error("No such issuer."),
                },
            }
        },
        "/achievements/{public_id}": {
            "get": {
                "operationId": "achievement",
                "summary": "An Achievement as last issued.",
                "parameters": [
                    {
                        "name": "public_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {"description": "The achievement.", **_json(_ref("Achievement"))},
                    "404": _error("No such achievement."),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {"200": {"description": "OpenAPI 3.1.", **_json(_ANY_OBJECT)}},
            }
        },
    }


def openapi_document(*, server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for the service at ``server_url`` (a fresh copy each call)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Credfolio issuer service",
            "version": "1",
            "description": "Open Badges 3.0 / W3C VC 2.0 credentials with Data Integrity "
            "eddsa-rdfc-2022 proofs; W3C VC-API issue and verify endpoints.  Every error is "
            'JSON: {"error": code, "detail": message}.',
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": server_url}],
        "security": [],
        "paths": _paths(),
        "components": {
            "schemas": copy.deepcopy(_SCHEMAS),
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": f"{server_url}/oauth/token",
                            "scopes": {"issue": "Issue credentials as the client's issuer."},
                        }
                    },
                },
                "clientBasic": {"type": "http", "scheme": "basic"},
            },
        },
    }
