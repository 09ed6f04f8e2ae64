"""docs/security.md names, for every mitigation, the tests that prove it: each must exist.

A name is ``file::test`` (under tests/), or ``::test`` for another test of the file named last
in the same table cell; parametrized ids are not part of the names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
NAME = re.compile(r"`((?:[\w/]+\.py)?)::(test_\w+)`")


def named_tests() -> list[tuple[str, str]]:
    names = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        for cell in line.split("|"):
            current = None
            for path, test in NAME.findall(cell):
                current = path or current
                assert current, f"{test} names no file in: {cell.strip()[:80]}"
                names.append((current, test))
    return names


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_the_threat_model_names_tests() -> None:
    assert len(named_tests()) > 50


@pytest.mark.parametrize(("path", "test"), named_tests(), ids=lambda v: v)
def test_every_test_the_threat_model_names_exists(path: str, test: str) -> None:
    file = ROOT / "tests" / path
    assert file.is_file(), f"docs/security.md names {path}, which does not exist"
    assert test in functions_in(file), f"docs/security.md names {path}::{test}: not found"
