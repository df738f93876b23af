"""Live progress of a batch run (labkit.console): on the terminal, never in the executed notebook."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent

CELLS = [
    "import labkit, time",
    "time.sleep(2.6)  # a silent cell: the heartbeat speaks",
    """import torch
from torch import nn
from labkit.train import BatchSource, ClassifierTrainer
x, y = torch.randn(32, 1, 8, 8), torch.randint(0, 2, (32,))
model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, 2))
t = ClassifierTrainer(model, name="tiny", device="cpu").fit(BatchSource(x, y, batch_size=8), 2)
print("trained", t.epoch)""",
]


@pytest.mark.slow
def test_console_progress_reaches_the_terminal_and_not_the_notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src, out = tmp_path / "tiny.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    env = {**os.environ, "LABKIT_CONSOLE": "tiny:3", "LABKIT_CONSOLE_EVERY": "1", "LABKIT_PROGRESS": "text",
           "LABKIT_RUNS": str(tmp_path / "runs")}
    env.pop("PYTEST_CURRENT_TEST", None)
    done = subprocess.run([sys.executable, "-m", "papermill", str(src), str(out), "--no-progress-bar", "-k", "python3"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    terminal = (done.stdout + done.stderr).splitlines()
    lines = [line for line in terminal if line.startswith("[tiny]")]
    assert any(line.startswith("[tiny] cell 2/3 (") for line in lines), terminal
    assert any(line.startswith("[tiny] cell 3/3 (") for line in lines), terminal
    assert any("cell 2/3 still running:" in line for line in lines), terminal  # the 2.6 s silence, every 1 s
    assert any(line.startswith("[tiny] tiny: epoch 2/2") for line in lines), terminal
    assert not any("epoch 1/2" in line for line in lines), terminal  # a run's other epochs only after 5 s of quiet
    # the executed notebook has the chapter's own output only
    executed = json.dumps(nbformat.read(out, as_version=4))
    assert "[tiny]" not in executed
    assert "trained 2" in executed and "tiny: epoch 2/2" in executed


def test_console_is_off_without_the_variable(monkeypatch, capfd):
    from labkit import console

    monkeypatch.delenv("LABKIT_CONSOLE", raising=False)
    assert console.enable_from_env() is False  # and outside IPython it stays off even when asked
    monkeypatch.setenv("LABKIT_CONSOLE", "x:3")
    assert console.enable_from_env() is False
    console.say("nothing")
    assert "nothing" not in capfd.readouterr().err


@pytest.mark.slow
def test_console_progress_reaches_the_terminal_under_nbval(tmp_path):
    """nbval starts its kernels with stderr sent to /dev/null: the lines must come through stdout."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS[:2]])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    env = {**os.environ, "LABKIT_CONSOLE": "tiny:2", "LABKIT_CONSOLE_EVERY": "1"}
    env.pop("PYTEST_CURRENT_TEST", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "--nbval-lax", "--nbval-current-env",
                           "-p", "no:cacheprovider", str(tmp_path / "tiny.ipynb")],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    lines = [line for line in done.stdout.splitlines() if "[tiny]" in line]
    assert any("[tiny] cell 2/2 (" in line for line in lines), done.stdout
    assert any("cell 2/2 still running:" in line for line in lines), done.stdout
