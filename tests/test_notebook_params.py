"""Every chapter refuses a parameter combination it cannot run in its validation cell, before any
work, and runs from any working directory (papermill from the repository root, as the README
shows it)."""
import time

import nbformat
import pytest

from conftest import ROOT

BAD = {  # a combination each chapter cannot run, and what its error must say
    "000_fer_dcgan_augmentation.ipynb": ({"classifier": "vgg19"}, "classifier"),
    "001_fer_cyclegan_emotion_transfer.ipynb": ({"target": "Neutral"}, "three different expressions"),
    "002_fruits_dcgan_diffaugment.ipynb": ({"fruits": ["Apple", "Grape"]}, "ablation_fruit 'Banana' must be one of"),
    "003_fer_dcgan_per_expression.ipynb": ({"expressions": ["Happy", "Joy"]}, "['Joy'] are not"),
    "004_mnist_gans.ipynb": ({"mix_fractions": [0.5, 2.0]}, "mix_fractions"),
    "mnist_gan_run.ipynb": ({"B": 1}, "'B' = 1"),
}


def _collect_cell(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "SPEC.collect(" in c.source)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_combination_stops_in_the_validation_cell(name, tmp_path, monkeypatch):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    params, says = BAD[name]
    monkeypatch.chdir(tmp_path)  # any working directory: here, not the notebooks folder
    start = time.perf_counter()
    with pytest.raises(PapermillExecutionError) as err:
        papermill.execute_notebook(str(ROOT / "notebooks" / name), str(tmp_path / "out.ipynb"), parameters=params,
                                   progress_bar=False, kernel_name="python3")
    assert "ParameterError" in err.value.ename and says in str(err.value.evalue)
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    failed = [i for i, c in enumerate(out.cells) if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    # papermill inserts its injected-parameters cell after the parameters cell
    assert failed == [_collect_cell(out)], f"{name}: stopped in cell {failed}, not in the validation cell"
    assert time.perf_counter() - start < 120


def test_the_mnist_chapter_finds_its_sweep_worker_from_anywhere(tmp_path, monkeypatch):
    from labkit.experiments import mnist

    monkeypatch.chdir(tmp_path)
    assert mnist.worker_notebook() == ROOT / "notebooks" / "mnist_gan_run.ipynb"


def _readme_commands(prefix: str) -> list[list[str]]:
    import re
    import shlex

    text = (ROOT / "README.md").read_text()
    return [shlex.split(m) for m in re.findall(rf"({re.escape(prefix)}[^`\n]*)", text)]


@pytest.mark.slow
def test_the_readmes_papermill_command_runs_from_the_repository_root(tmp_path):
    """The README's papermill command, as written, from the repository root: its parameters pass
    the chapter's checks and the chapter's first cells (parameters, validation, setup, which finds
    the sweep worker) run there; the rest is the chapter's own work, which nbval runs."""
    import papermill
    from nbclient import NotebookClient
    from papermill.cli import _resolve_type

    commands = _readme_commands(".venv/bin/papermill ")
    assert commands, "the README shows no papermill command"
    for cmd in commands:
        notebook, params = cmd[1], {k: _resolve_type(v) for k, v in zip(cmd[4::3], cmd[5::3])}  # as papermill -p reads them
        assert cmd[3::3] == ["-p"] * len(params), cmd
        nb = papermill.execute_notebook(str(ROOT / notebook), str(tmp_path / "out.ipynb"), parameters=params,
                                        prepare_only=True, cwd=str(ROOT))
        first = next(i for i, c in enumerate(nb.cells) if "describe(device)" in c.source)  # the setup cell
        nb.cells = nb.cells[: first + 1]
        if "worker_notebook()" in nb.cells[-1].source:  # chapter 004 found its worker from here, before any work
            nb.cells.append(nbformat.v4.new_code_cell("assert worker is None or worker.is_file(), worker"))
        NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(ROOT)}}).execute()
        assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_the_readmes_sweep_command_names_real_parameters():
    from labkit.experiments import mnist

    commands = _readme_commands(".venv/bin/python -m labkit.runner ")
    assert commands
    for cmd in commands:
        assert (ROOT / cmd[3]).is_file(), cmd[3]
        grids = [a.split("=")[0] for a in cmd[cmd.index("--grid"):] if "=" in a]
        assert grids and set(grids) <= set(mnist.RUN_SPEC.names), grids
