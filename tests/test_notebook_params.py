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
