"""The strict outside validators, run on documents exactly as they are: Python ``jsonschema``
(draft 2019-09, formats on, used directly, not through credentials/schema.py) and ``ajv`` (npm,
``ajv/dist/2019`` with ``ajv-formats``; tools/ajv, prepared by scripts/ajv), both over the bundled
1EdTech schemas in ``credentials/schemas/``.

``ajv`` needs Node.js: :func:`ajv_errors` skips the calling test, saying why, when the checker
is not prepared (scripts/test prepares it and sets ``CREDFOLIO_AJV_DIR``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import referencing
import referencing.jsonschema
from jsonschema import Draft201909Validator

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "credentials" / "schemas"
KIND_BY_TYPE = {
    "AchievementCredential": "achievementcredential",
    "OpenBadgeCredential": "achievementcredential",
    "EndorsementCredential": "endorsementcredential",
}


def kind_of(document: Mapping[str, Any]) -> str:
    """The 1EdTech schema that applies to an OB 3.0 credential, from its ``type``."""
    types = document["type"] if isinstance(document["type"], list) else [document["type"]]
    (kind,) = {KIND_BY_TYPE[t] for t in types if t in KIND_BY_TYPE}
    return kind


def _schemas() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob("*.json"))
    }


def jsonschema_errors(document: Mapping[str, Any], kind: str) -> list[tuple[str, str]]:
    """(JSON pointer, message) of every error Python jsonschema finds, as published."""
    schemas = _schemas()
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (schema["$id"], referencing.jsonschema.DRAFT201909.create_resource(schema))
        for schema in schemas.values()
    )
    validator = Draft201909Validator(
        schemas[kind], registry=registry, format_checker=Draft201909Validator.FORMAT_CHECKER
    )
    return [
        ("".join(f"/{part}" for part in error.absolute_path), error.message)
        for error in validator.iter_errors(dict(document))
    ]


def _ajv_dir() -> Path:
    prepared = os.environ.get("CREDFOLIO_AJV_DIR")
    folder = Path(prepared) if prepared else ROOT / ".cache" / "ajv"
    if not shutil.which("node"):
        pytest.skip("ajv needs Node.js, which is not installed")
    if not (folder / "node_modules" / "ajv").is_dir():
        pytest.skip(f"the ajv checker is not prepared in {folder}: run scripts/ajv (needs npm)")
    return folder


def ajv_errors(documents: list[tuple[str, Mapping[str, Any]]]) -> list[list[dict[str, str]]]:
    """ajv's errors (``instancePath``, ``message``) for each (kind, document), in order."""
    folder = _ajv_dir()
    with tempfile.TemporaryDirectory() as temp:
        pairs = []
        for index, (kind, document) in enumerate(documents):
            path = Path(temp) / f"{index}.json"
            path.write_text(json.dumps(document), encoding="utf-8")
            pairs.append(f"{kind}={path}")
        run = subprocess.run(
            ["node", str(folder / "validate.mjs"), str(SCHEMA_DIR), *pairs],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode in (0, 1), run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    return [line["errors"] for line in lines]
