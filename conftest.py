"""Keep nbval's executed notebooks.

When ``pytest --nbval`` runs a notebook, each cell's fresh outputs are copied into the
notebook and the result is written to ``_build/executed/<same path>``; the book is built
from those copies, so the test run executes every notebook exactly once.

nbval ignores the kernel's comm messages, so it would keep no ipywidgets state and the book
could not draw a chapter's widgets: the widget models are recorded here from those messages,
as nbclient (papermill) does, and saved in the notebook's ``widgets`` metadata.
"""
from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "_build" / "executed"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_failed: set[Path] = set()
_widgets: dict[Path, dict[str, dict]] = {}  # notebook -> comm id -> {"state": ..., "buffers": {path: ...}}


def _record_widget(models: dict[str, dict], msg: dict) -> None:
    """Keep the state a comm_open or comm_msg carries (nbclient's handle_comm_msg)."""
    if msg.get("msg_type") not in ("comm_open", "comm_msg"):
        return
    content = msg.get("content", {})
    data = content.get("data") or {}
    if "state" not in data:
        return
    model = models.setdefault(content["comm_id"], {"state": {}, "buffers": {}})
    model["state"].update(data["state"])
    for path, buf in zip(data.get("buffer_paths") or [], msg.get("buffers") or []):
        model["buffers"][tuple(path)] = {"data": base64.b64encode(bytes(buf)).decode("ascii"),
                                         "encoding": "base64", "path": path}


def _widget_metadata(models: dict[str, dict]) -> dict:
    """The notebook's ``widgets`` metadata, as nbclient writes it."""
    state = {}
    for comm_id, model in models.items():
        s = model["state"]
        if "_model_name" not in s:
            continue
        state[comm_id] = {"model_name": s["_model_name"], "model_module": s.get("_model_module"),
                          "model_module_version": s.get("_model_module_version"), "state": s}
        if model["buffers"]:
            state[comm_id]["buffers"] = list(model["buffers"].values())
    return {WIDGET_STATE: {"state": state, "version_major": 2, "version_minor": 0}}


def _tap_widget_messages(parent) -> None:
    """Let every kernel message nbval reads for this notebook pass by _record_widget first."""
    if getattr(parent, "_widget_tap", False) or not hasattr(parent, "get_kernel_message"):
        return
    models = _widgets.setdefault(Path(str(parent.fspath)), {})
    read = parent.get_kernel_message

    def get_kernel_message(*args, **kwargs):
        msg = read(*args, **kwargs)
        _record_widget(models, msg)
        return msg

    parent.get_kernel_message = get_kernel_message
    parent._widget_tap = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if getattr(item, "cell", None) is not None:
        _tap_widget_messages(item.parent)
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
        models = _widget_metadata(_widgets.get(path, {}))
        if models[WIDGET_STATE]["state"]:
            nb.metadata["widgets"] = models
        out = EXECUTED / path.relative_to(ROOT)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
