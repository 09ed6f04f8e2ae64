"""Compiled Jinja templates shared by every app in the process: an app compiles each template
once; the next app made in the same process (the test suite makes thousands, a worker that is
re-created makes a few) loads the compiled code instead of parsing the template again."""

from __future__ import annotations

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class SharedTemplateCode(BytecodeCache):
    """An in-memory :class:`jinja2.BytecodeCache`.  A bucket's key is the template's name and
    file, and Jinja checks the stored source checksum on load, so an edited template is
    compiled again.  Every app made by ``create_app`` has the same Jinja settings, which is
    what sharing compiled code needs."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


#: The process's cache, set on each app's Jinja environment by ``create_app``.
TEMPLATE_CODE = SharedTemplateCode()
