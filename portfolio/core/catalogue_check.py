"""Is every shipped language complete?  ``python -m portfolio.core.catalogue_check DIR``
(``scripts/translations check``).

The message ids are extracted from the code as ``scripts/translations extract`` does (``pybabel
extract`` with ``babel.cfg``), then every ``DIR/<lang>/LC_MESSAGES/messages.po`` is checked:
every id is there, translated (a non-empty text, every plural form), not fuzzy, with the same
``%(name)s`` placeholders as the English, and ``msgfmt -c`` accepts the file.  The problems are
printed one a line and the exit status is 1 when there is any.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

#: The repository (where babel.cfg is) and what extraction reads (as scripts/translations).
ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("portfolio", "templates", "wsgi.py")
KEYWORDS = ("_l", "lazy_gettext")

#: A printf placeholder: ``%(name)s``, ``%s``, ``%d``… (``%%`` is a literal percent sign).
PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrs]")


def placeholders(text: str) -> list[str]:
    """The placeholders of ``text``, sorted: ``%(name)s`` by name, positional ones as written."""
    text = text.replace("%%", "")
    return sorted(m.group("name") or m.group(0) for m in PLACEHOLDER.finditer(text))


def extract(root: Path = ROOT) -> Catalog:
    """The message ids the code uses now (``pybabel extract``, as ``scripts/translations``)."""
    pybabel = Path(sys.executable).with_name("pybabel")
    command = str(pybabel) if pybabel.exists() else shutil.which("pybabel") or "pybabel"
    with tempfile.TemporaryDirectory() as scratch:
        pot = Path(scratch) / "messages.pot"
        keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
        subprocess.run(  # noqa: S603  # our own fixed command line
            [command, "-q", "extract", "-F", "babel.cfg", *keywords, "-o", str(pot), *SOURCES],
            cwd=root,
            check=True,
        )
        return read_catalogue(pot)


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return str(msgid), message.context


def _texts(value: object) -> list[str]:
    if isinstance(value, tuple | list):
        return [str(item or "") for item in value]
    return [str(value or "")]


def message_problems(source: Message, translated: Message | None) -> list[str]:
    """What is wrong with ``translated`` as the translation of ``source`` (empty: nothing)."""
    if translated is None:
        return ["missing"]
    problems = []
    strings = _texts(translated.string)
    if translated.fuzzy:
        problems.append("fuzzy")
    if not all(text.strip() for text in strings):
        problems.append("not translated" if not any(strings) else "a plural form is empty")
        return problems
    ids = _texts(source.id)
    if len(ids) == 1:
        if placeholders(strings[0]) != placeholders(ids[0]):
            problems.append(f"placeholders differ: {strings[0]!r}")
    else:
        allowed = set(placeholders(ids[0])) | set(placeholders(ids[-1]))
        for text in strings:
            if not set(placeholders(text)) <= allowed:
                problems.append(f"unknown placeholder in {text!r}")
        if placeholders(strings[-1]) != placeholders(ids[-1]):
            problems.append(f"placeholders differ: {strings[-1]!r}")
    return problems


def msgfmt_problems(path: Path) -> list[str]:
    """What ``msgfmt -c`` says about the file (nothing when it is clean or not installed)."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return []
    done = subprocess.run(  # noqa: S603  # msgfmt on a catalogue path
        [msgfmt, "-c", "-o", "/dev/null", str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode == 0:
        return []
    return [line for line in done.stderr.splitlines() if line.strip()] or ["msgfmt -c failed"]


def check_catalogue(template: Catalog, path: Path) -> list[str]:
    """Every problem of the catalogue at ``path`` against the ids of ``template``."""
    catalogue = read_catalogue(path)
    found = {_key(message): message for message in catalogue if message.id}
    problems = []
    for source in template:
        if not source.id:
            continue
        key = _key(source)
        for problem in message_problems(source, found.get(key)):
            context = f" (context {key[1]!r})" if key[1] else ""
            problems.append(f"{path}: {key[0]!r}{context}: {problem}")
    problems.extend(f"{path}: msgfmt: {line}" for line in msgfmt_problems(path))
    return problems


def catalogues(directory: Path) -> list[Path]:
    """Every shipped language's ``messages.po`` under ``directory``."""
    return sorted(directory.glob("*/LC_MESSAGES/messages.po"))


def check(directory: Path, template: Catalog | None = None) -> list[str]:
    """Every problem of every language under ``directory`` (ids extracted from the code
    unless ``template`` is given)."""
    template = template if template is not None else extract()
    found = catalogues(directory)
    if not found:
        return [f"{directory}: no catalogue (<lang>/LC_MESSAGES/messages.po)"]
    return [problem for path in found for problem in check_catalogue(template, path)]


def report(problems: Iterable[str]) -> int:
    listed = list(problems)
    for problem in listed:
        print(problem)
    if listed:
        print(f"{len(listed)} problem(s) in the translations.", file=sys.stderr)
        return 1
    print("Every language is complete.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``DIR [TEMPLATE.pot]``: check the catalogues of ``DIR`` (against ``TEMPLATE.pot``
    instead of the code's ids when given)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 2:
        print("usage: python -m portfolio.core.catalogue_check DIR [TEMPLATE.pot]", file=sys.stderr)
        return 2
    template = read_catalogue(Path(args[1])) if len(args) == 2 else None
    return report(check(Path(args[0]), template))


if __name__ == "__main__":
    sys.exit(main())
