"""pyld exactly as released, for computing the reference output the tests compare with.

``credentials.jsonld`` replaces one function in pyld's module (its absolute-IRI test, with a
compiled and memoized equivalent); reference output is computed with pyld's own restored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pyld import jsonld as pyld_jsonld

from credentials.jsonld import PYLD_IS_ABSOLUTE_IRI


@contextlib.contextmanager
def pristine_pyld() -> Iterator[None]:
    """pyld without the change credentials.jsonld makes to its module, for the duration."""
    patched = pyld_jsonld._is_absolute_iri
    pyld_jsonld._is_absolute_iri = PYLD_IS_ABSOLUTE_IRI
    try:
        yield
    finally:
        pyld_jsonld._is_absolute_iri = patched
