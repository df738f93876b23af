"""Static checks of the chapters: one parameters cell whose names are the chapter's spec, the
install cell pointing at the repository named in _config.yml, every notebook in the book."""
import re

import nbformat
import pytest
import yaml

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SPECS = {"000_fer_dcgan_augmentation.ipynb": ("fer", "SPEC"), "001_fer_cyclegan_emotion_transfer.ipynb": ("cyclegan", "SPEC"), "002_fruits_dcgan_diffaugment.ipynb": ("fruits", "SPEC"), "003_fer_dcgan_per_expression.ipynb": ("radford", "SPEC"), "004_mnist_gans.ipynb": ("mnist", "SPEC"), "mnist_gan_run.ipynb": ("mnist", "RUN_SPEC")}


def test_every_notebook_is_known_and_in_the_book():
    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS, "no notebooks found"
    for nb in NOTEBOOKS:
        assert nb.name in SPECS, f"{nb.name}: add it to SPECS in this test"
        assert f"notebooks/{nb.stem}" in toc, f"{nb.name} is not in _toc.yml"


def _spec(path):
    import importlib

    module, attr = SPECS[path.name]
    return getattr(importlib.import_module(f"labkit.experiments.{module}"), attr)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_parameters_cell_written_from_the_spec(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged 'parameters'"
    assert cells[0].source == _spec(path).cell(), f"{path.name}: paste labkit's Spec.cell() into the parameters cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_lists_exactly_the_specs_parameters_with_types(path):
    import papermill

    spec = _spec(path)
    found = papermill.inspect_notebook(str(path))
    assert list(found) == spec.names, f"{path.name}: papermill reads {list(found)}"
    for name, p in spec.params.items():
        assert found[name]["inferred_type_name"] in (p.type_name, f"Optional[{p.type_name}]"), (name, found[name])
        assert found[name]["help"] == p.help


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_uses_the_configured_repository(path):
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    first = nbformat.read(path, as_version=4).cells[1].source
    assert f"git+{url}" in first and "except ImportError" in first


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_carry_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        checked = cell.source.startswith("# NBVAL_CHECK_OUTPUT")
        assert bool(cell.outputs) == checked, f"{path.name}: cell {cell.source[:40]!r}"
        if checked:
            assert cell.execution_count, f"{path.name}: checked cell without a reference run"


def test_readme_quick_start_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```(?:bash)?\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert block == ["python course.py build", "python course.py test"]
    assert "python3 course.py test" in (ROOT / ".ci" / "run").read_text()
