"""Keep nbval's executed notebooks.

When ``pytest --nbval`` runs a notebook, each cell's fresh outputs are copied into the
notebook and the result is written to ``_build/executed/<same path>``; the book is built
from those copies, so the test run executes every notebook exactly once.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "_build" / "executed"
_failed: set[Path] = set()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    outcome = yield
    cell = getattr(item, "cell", None)
    if cell is None or not hasattr(item, "test_outputs"):
        return
    if outcome.excinfo is not None:
        _failed.add(Path(str(item.parent.fspath)))
    outputs = item.test_outputs or []
    cell.outputs = [nbformat.from_dict(dict(o)) for o in outputs]
    cell.execution_count = item.cell_num + 1
    for o in cell.outputs:
        if o.get("output_type") == "execute_result":
            o["execution_count"] = cell.execution_count


def pytest_sessionfinish(session, exitstatus):
    seen = set()
    for item in session.items:
        parent = item.parent
        nb = getattr(parent, "nb", None)
        path = Path(str(getattr(parent, "fspath", "")))
        if nb is None or path in seen:
            continue
        seen.add(path)
        if path in _failed or not all(c.get("execution_count") for c in nb.cells if c.cell_type == "code"):
            continue
        out = EXECUTED / path.relative_to(ROOT)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
