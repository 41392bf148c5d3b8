"""pytest settings for the docstring examples (``python -m pytest --doctest-modules --pyargs pyshape``).

Only pytest loads this file; ``import pyshape`` never does. An example that
imports an optional dependency (matplotlib in :mod:`pyshape.plot`, ...) is
skipped, not failed, where that dependency is not installed.
"""
from __future__ import annotations

import re

import pytest

#: The top-level module of each ``import x`` / ``from x import ...`` line of an example.
_IMPORTED = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", re.MULTILINE)


@pytest.fixture(autouse=True)
def _skip_without_imported_modules(request: pytest.FixtureRequest) -> None:
    """Skip a doctest whose examples import a module that is not installed."""
    dtest = getattr(request.node, "dtest", None)  # set on doctest items only
    if dtest is None:
        return
    for name in dict.fromkeys(m for example in dtest.examples for m in _IMPORTED.findall(example.source)):
        pytest.importorskip(name)
