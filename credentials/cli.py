"""``credfolio sign|verify|bake|unbake``: the credential engine on the command line.

Exit codes of ``verify``: 0 verified, 1 not verified, 2 malformed input (the same three outcomes
as the verify API's 200 / 422 / 400).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from issuer_keys.errors import IssuerKeyError, KeyNotFoundError

from . import baking, vc_rules
from .errors import CredentialError, MalformedInputError
from .proof import Eddsa2022Suite, parse_datetime
from .verify import FAILED, NOT_APPLICABLE, PASSED, WARNING, VerificationResult, issuer_id

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_MALFORMED = 0, 1, 2
MAX_INPUT_BYTES = 10 * 1024 * 1024

_SYMBOLS = {PASSED: "✔", FAILED: "✘", NOT_APPLICABLE: "–", WARNING: "!"}


def _read_input(path: str) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise MalformedInputError(f"{path} is larger than {MAX_INPUT_BYTES} bytes")
    return data


def load_credential_file(path: str) -> Any:
    """A credential from a JSON file or a baked PNG/SVG (extracted first).

    A file that starts with "<" is meant as an SVG: it is unbaked directly, so that a refused
    (hostile) SVG is reported as such, not as "not valid JSON"."""
    data = _read_input(path)
    if baking.sniff_image_type(data) is not None or data.removeprefix(
        b"\xef\xbb\xbf"
    ).lstrip().startswith(b"<"):
        return baking.unbake(data)
    return data


def _load_json_files(paths: tuple[str, ...], *, what: str) -> dict[str, Any]:
    documents: dict[str, Any] = {}
    for path in paths:
        try:
            document = json.loads(_read_input(path))
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{what} {path} is not JSON: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise click.ClickException(f"{what} {path} has no id")
        documents[document["id"]] = document
    return documents


def _load_status_lists(options: tuple[str, ...]) -> dict[str, Any]:
    """``--status-list FILE`` (the list stands for the URL that is its ``id``) or
    ``--status-list URL=FILE`` (it stands for URL, whatever its ``id``: Bitstring Status List
    §3.2 asks only that what is dereferenced at the entry's URL verifies)."""
    lists: dict[str, Any] = {}
    for option in options:
        url, _, path = option.rpartition("=")
        parts = urlsplit(url)
        if not (url and parts.scheme and (parts.netloc or parts.scheme in {"did", "urn"})):
            url, path = "", option
        try:
            document = json.loads(_read_input(path))
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"status list {path} is not JSON: {exc}") from None
        if not isinstance(document, dict):
            raise click.ClickException(f"status list {path} is not a JSON object")
        if not url:
            if not isinstance(document.get("id"), str):
                raise click.ClickException(
                    f"status list {path} has no id: give the URL it stands for as "
                    f"--status-list URL=FILE"
                )
            url = document["id"]
        lists[url] = document
    return lists


def _write_output(data: bytes, out: str | None) -> None:
    if out is None or out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(out).write_bytes(data)


def _components() -> Any:
    return current_app.extensions["credfolio"]


@click.command("sign")
@click.argument("file")
@click.option("--out", "-o", help="Write the signed credential here (default: standard output).")
@click.option(
    "--set-issuer",
    is_flag=True,
    help="Replace the credential's issuer id with this service's issuer DID.",
)
@click.option("--created", help="Proof creation time (ISO 8601 with time zone); default now.")
@with_appcontext
def sign_command(file: str, out: str | None, set_issuer: bool, created: str | None) -> None:
    """Sign FILE (an unsigned credential, JSON) with the issuer's active key (eddsa-rdfc-2022)."""
    components = _components()
    try:
        document = json.loads(_read_input(file))
        if not isinstance(document, dict):
            raise MalformedInputError("a credential must be a JSON object")
        document = _bind_issuer(document, components.issuer_did, set_issuer=set_issuer)
        vc_rules.check(document, resource=components.loader.published_bytes)  # as on issue
        record = components.key_store.active(components.issuer_did)
        key = components.key_store.signing_key(components.issuer_did)
        suite = Eddsa2022Suite(loader=components.loader)
        signed = suite.create_proof(
            document,
            key=key,
            verification_method=key.verification_method_id(components.issuer_did),
            created=parse_datetime(created, field="--created") if created else None,
        )
    except json.JSONDecodeError as exc:
        click.echo(f"Error: {file} is not valid JSON: {exc}", err=True)
        sys.exit(EXIT_MALFORMED)
    except CredentialError as exc:
        click.echo(f"Error ({exc.code}): {exc.message}", err=True)
        sys.exit(EXIT_MALFORMED)
    except IssuerKeyError as exc:
        click.echo(f"Error ({exc.code}): {exc.message}", err=True)
        if isinstance(exc, KeyNotFoundError):
            click.echo("Create the issuer's signing key with: credfolio keys create", err=True)
        sys.exit(1)
    _write_output((json.dumps(signed, indent=2, ensure_ascii=False) + "\n").encode(), out)
    click.echo(f"Signed with key {record.key_id} as {components.issuer_did}", err=True)


def _bind_issuer(document: dict[str, Any], issuer_did: str, *, set_issuer: bool) -> dict[str, Any]:
    """The issuer of what we sign must be our issuer DID (the key's controller)."""
    issuer = document.get("issuer")
    if issuer is None or set_issuer:
        document = dict(document)
        if isinstance(issuer, dict):
            document["issuer"] = {**issuer, "id": issuer_did}
        else:
            document["issuer"] = issuer_did
        return document
    current = issuer_id(document)
    if current != issuer_did:
        raise MalformedInputError(
            f"the credential's issuer is {current}, but this service signs as {issuer_did}; "
            "pass --set-issuer to replace it",
            code="WRONG_ISSUER",
        )
    return document


@click.command("verify")
@click.argument("file")
@click.option("--json", "as_json", is_flag=True, help="Print the verify API's JSON object.")
@click.option(
    "--controller-document",
    "--did-document",
    "did_documents",
    multiple=True,
    help="A DID document or an HTTPS controller document (JSON file) to resolve keys from, "
    "e.g. another issuer's did:web or the document an https://…#key-1 method is in.",
)
@click.option(
    "--status-list",
    "status_lists",
    multiple=True,
    help="A BitstringStatusListCredential (JSON file) the credential refers to, for the URL "
    "that is its id; URL=FILE makes the file stand for URL.",
)
@click.option("--now", help="Check validity dates against this time instead of now (ISO 8601).")
@with_appcontext
def verify_command(
    file: str,
    as_json: bool,
    did_documents: tuple[str, ...],
    status_lists: tuple[str, ...],
    now: str | None,
) -> None:
    """Verify FILE: a credential as JSON, or a baked PNG or SVG badge.

    Every check is listed.  Exit status: 0 verified, 1 not verified, 2 malformed input.
    """
    components = _components()
    verifier = components.verifier(
        did_documents=_load_json_files(did_documents, what="DID document"),
        status_lists=_load_status_lists(status_lists),
    )
    if now:
        moment = parse_datetime(now, field="--now")
        verifier.now = lambda: moment
    try:
        result = verifier.verify(load_credential_file(file))
    except MalformedInputError as exc:
        _report_malformed(exc, as_json=as_json)
        sys.exit(EXIT_MALFORMED)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        _report(result)
    sys.exit(EXIT_VERIFIED if result.verified else EXIT_NOT_VERIFIED)


def _report(result: VerificationResult) -> None:
    for check in result.checks:
        symbol = _SYMBOLS.get(check.status, "?")
        click.echo(f"{symbol} {check.name:<13} {check.status:<15} {check.detail}")
    for warning in result.warnings:
        click.echo(f"! warning: {warning}")
    click.echo(f"data model: {result.data_model}")
    for label in result.legacy_proofs:
        click.echo(f"legacy proof: {label}")
    click.echo("VERIFIED" if result.verified else "NOT VERIFIED")


def _report_malformed(exc: MalformedInputError, *, as_json: bool) -> None:
    partial = exc.result if isinstance(exc.result, VerificationResult) else None
    if as_json:
        body = partial.to_dict() if partial else {"checks": [], "warnings": []}
        body["verified"] = False
        body["errors"] = [exc.message]
        body.update(exc.to_dict())
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    if partial:
        _report(partial)
    click.echo(f"MALFORMED ({exc.code}): {exc.message}")


@click.command("bake")
@click.argument("image")
@click.argument("credential")
@click.option("--out", "-o", required=True, help="Where to write the baked PNG or SVG.")
def bake_command(image: str, credential: str, out: str) -> None:
    """Embed CREDENTIAL (JSON file) into IMAGE (PNG or SVG), per Open Badges 3.0 baking."""
    try:
        document = json.loads(_read_input(credential))
        baked, media_type = baking.bake(_read_input(image), document)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{credential} is not valid JSON: {exc}") from None
    except CredentialError as exc:
        click.echo(f"Error ({exc.code}): {exc.message}", err=True)
        sys.exit(EXIT_MALFORMED)
    _write_output(baked, out)
    click.echo(f"Wrote {media_type} with the credential baked in to {out}", err=True)


@click.command("unbake")
@click.argument("image")
@click.option("--out", "-o", help="Write the credential here (default: standard output).")
def unbake_command(image: str, out: str | None) -> None:
    """Extract the credential baked into IMAGE (PNG or SVG)."""
    try:
        credential = baking.unbake(_read_input(image))
    except CredentialError as exc:
        click.echo(f"Error ({exc.code}): {exc.message}", err=True)
        sys.exit(EXIT_MALFORMED)
    text = credential if isinstance(credential, str) else json.dumps(credential, indent=2)
    _write_output((text + "\n").encode("utf-8"), out)


def register(group: click.Group) -> None:
    """Add the credential commands to the ``credfolio`` group."""
    for command in (sign_command, verify_command, bake_command, unbake_command):
        group.add_command(command)
