"""Live progress of a notebook run in batch, on the terminal that started it.

When papermill or nbval runs a chapter, what the chapter prints goes into the executed notebook,
and the terminal sees nothing for minutes. With ``LABKIT_CONSOLE="<name>:<code cells>"`` in the
kernel's environment (``course.py`` sets it), importing labkit turns on, in that kernel:

- a line when each code cell starts: ``[003] cell 17/28 (2:31 in)``;
- labkit's training-log lines (``Trainer.fit``'s epoch lines): every run's last epoch, and others
  when the terminal has been quiet for 5 s;
- a heartbeat when a cell has been silent for ``LABKIT_CONSOLE_EVERY`` seconds (default 10):
  ``[003] cell 17/28 still running: 40 s in this cell (3:11 in)``.

These lines go to the kernel's own stdout (the terminal of the process that launched it), not into
the notebook: the executed notebook is exactly what it would be without them. Outside IPython, or
without the variable, nothing changes.
"""
from __future__ import annotations

import io
import os
import sys
import threading
import time

_state: dict = {}


def _fd() -> int:
    # ipykernel redirects fds 1 and 2 into the notebook and keeps the terminal's as copies, which
    # its streams' fileno() return; without that redirect fd 1 is the terminal itself. stdout, as
    # nbval starts kernels with stderr sent to /dev/null (papermill leaves both to the terminal)
    try:
        return sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation, ValueError):
        return 1


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


def say(line: str, quiet_for: float = 0.0) -> None:
    """Write ``line`` to the terminal when console progress is on (see the module's text); with
    ``quiet_for``, only if the terminal has been quiet that many seconds (a run of 200 short
    epochs then shows a line every few seconds, not 200)."""
    if not _state or time.monotonic() - _state["last"] < quiet_for:
        return
    _state["last"] = time.monotonic()
    try:
        os.write(_state.get("fd") or _fd(), f"[{_state['name']}] {line}\n".encode("utf-8", "replace"))
    except OSError:
        pass


def pin() -> None:
    """Keep writing to the terminal found now, whatever ``sys.stdout`` becomes later (a worker
    process of :mod:`labkit.parallel` replaces it to forward its lines to the caller)."""
    if _state:
        _state["fd"] = _fd()


def _where() -> str:
    return f"cell {_state['cell']}/{_state['cells']}" if _state.get("cells") else f"cell {_state['cell']}"


def _pre_run_cell(info=None) -> None:
    _state["cell"] += 1
    _state["cell_start"] = time.monotonic()
    say(f"{_where()} ({_clock(time.monotonic() - _state['start'])} in)")


def _heartbeat(every: float) -> None:
    while True:
        time.sleep(1.0)
        now = time.monotonic()
        if _state.get("cell_start") is not None and now - _state["last"] >= every:
            say(f"{_where()} still running: {now - _state['cell_start']:.0f} s in this cell "
                f"({_clock(now - _state['start'])} in)")


def _post_run_cell(result=None) -> None:
    _state["cell_start"] = None


def _first_cell(shell) -> int:
    """The number of the cell running now (the one importing labkit); later cells count up from it.
    papermill's kernel counts a cell before running it (code cell k runs with execution_count
    k + 1); nbval runs cells without counting them, and imports labkit in its first cell."""
    return max(1, shell.execution_count - 1)


def enable_from_env() -> bool:
    """Turn console progress on in this IPython kernel if ``LABKIT_CONSOLE`` asks for it (once)."""
    spec = os.environ.get("LABKIT_CONSOLE", "").strip()
    if not spec or _state:
        return bool(_state)
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    name, _, cells = spec.rpartition(":") if spec.rpartition(":")[2].isdigit() else (spec, "", "")
    every = float(os.environ.get("LABKIT_CONSOLE_EVERY", "10"))
    now = time.monotonic()
    _state.update(name=name, cells=int(cells) if cells else None, shell=shell, cell=_first_cell(shell),
                  start=now, last=now, cell_start=now)
    shell.events.register("pre_run_cell", _pre_run_cell)
    shell.events.register("post_run_cell", _post_run_cell)
    threading.Thread(target=_heartbeat, args=(every,), daemon=True, name="labkit-console").start()
    return True
