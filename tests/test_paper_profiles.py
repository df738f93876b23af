"""benchmarks/paper_profiles.py: a time budget per call, and the next call resumes."""
from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import nbformat
import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("paper_profiles", ROOT / "benchmarks" / "paper_profiles.py")
paper_profiles = importlib.util.module_from_spec(spec)
spec.loader.exec_module(paper_profiles)

# A chapter in miniature: 12 "epochs" of 0.5 s, each recorded in its run folder, resumed from there.
WORK = """
from pathlib import Path
import os, time
done = Path(run_root) / "epochs.txt"
Path(run_root).mkdir(parents=True, exist_ok=True)
(Path(run_root) / "kernel.pid").write_text(str(os.getpid()))
epochs = [int(x) for x in done.read_text().split()] if done.exists() else []
for e in range(len(epochs), 12):
    time.sleep(0.5)
    epochs.append(e)
    done.write_text(" ".join(map(str, epochs)))
print("profile", profile, "epochs", len(epochs))
"""


@pytest.mark.slow
def test_budget_stops_a_chapter_and_the_next_call_resumes_it(tmp_path, capsys):
    books = tmp_path / "notebooks"
    books.mkdir()
    params = nbformat.v4.new_code_cell('profile = "quick"\nrun_root = None\ndevice = "auto"')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(WORK)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, books / "900_tiny.ipynb")
    out = tmp_path / "out"
    common = ["--out", str(out), "--notebooks", str(books), "--profile", "quick"]

    assert paper_profiles.main(["--budget-min", str(6 / 60), *common]) == 0  # 6 s: kernel start-up and a few epochs
    state = json.loads((out / "state.json").read_text())
    assert state["chapters"]["900"]["status"] == "stopped"
    first = (out / "runs" / "900" / "epochs.txt").read_text().split()
    assert 0 < len(first) < 12
    # the kernel was stopped too (it runs in a session of its own): no epoch is added after the stop
    kernel = int((out / "runs" / "900" / "kernel.pid").read_text())
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE
    time.sleep(1.5)
    assert (out / "runs" / "900" / "epochs.txt").read_text().split() == first

    assert paper_profiles.main(["--budget-min", "2", *common]) == 0
    state = json.loads((out / "state.json").read_text())
    assert state["chapters"]["900"] | {"seconds": 0} == {"status": "done", "seconds": 0, "calls": 2}
    assert (out / "runs" / "900" / "epochs.txt").read_text().split() == [str(i) for i in range(12)]
    executed = nbformat.read(out / "executed" / "900_tiny.ipynb", as_version=4)
    assert "profile quick epochs 12" in executed.cells[-1].outputs[0]["text"]
    assert "all done" in capsys.readouterr().out

    # a finished chapter is not run again; another setting in the same folder is refused
    assert paper_profiles.main(["--budget-min", "1", *common]) == 0
    assert json.loads((out / "state.json").read_text())["chapters"]["900"]["calls"] == 2
    with pytest.raises(SystemExit, match="holds runs of"):
        paper_profiles.main(["--budget-min", "1", "--out", str(out), "--notebooks", str(books), "--profile", "paper"])


def test_unknown_chapters_and_bad_budgets_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown chapter"):
        paper_profiles.main(["--chapters", "042", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="budget-min must be positive"):
        paper_profiles.main(["--budget-min", "0", "--out", str(tmp_path)])
