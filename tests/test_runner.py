import json

import nbformat as nbf
import pytest

from labkit.runner import grid_points, main, sweep, write_results


def tiny_notebook(path):
    nb = nbf.v4.new_notebook()
    nb.cells = [
        nbf.v4.new_code_cell("import labkit.params\nfrom labkit.params import Param, Spec\n_before = labkit.params.snapshot(globals())"),
        nbf.v4.new_code_cell("a = 1\nb = 2.0\nresults_path = None"),
        nbf.v4.new_code_cell(
            "P = Spec(Param('a', 'a', 1, 1, int), Param('b', 'b', 2.0, 2.0, float),"
            " Param('results_path', 'out', None, None, str, nullable=True)).collect(globals(), _before)\n"
            "from labkit.runner import write_results\n"
            "write_results(P.results_path, {'product': P.a * P.b})"),
    ]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbf.write(nb, path)
    return path


def test_grid_points_in_order():
    assert grid_points({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    with pytest.raises(ValueError, match="at least one value"):
        grid_points({"a": []})


@pytest.mark.slow
def test_sweep_collects_each_runs_results(tmp_path):
    nb = tiny_notebook(tmp_path / "tiny.ipynb")
    table = sweep(nb, {"a": [2, 3]}, tmp_path / "out", fixed={"b": 0.5}, progress=False)
    assert table["a"].tolist() == [2, 3] and table["product"].tolist() == [1.0, 1.5]
    assert (tmp_path / "out" / "000-a2" / "executed.ipynb").exists()


@pytest.mark.slow
def test_a_typo_in_a_parameter_fails_the_run(tmp_path):
    import papermill

    nb = tiny_notebook(tmp_path / "tiny.ipynb")
    with pytest.raises(papermill.PapermillExecutionError, match="unknown parameter\\(s\\) c"):
        sweep(nb, [{"c": 1}], tmp_path / "out", progress=False)


@pytest.mark.slow
def test_command_line_grid(tmp_path, capsys):
    nb = tiny_notebook(tmp_path / "tiny.ipynb")
    assert main([str(nb), "-p", "b", "3.0", "--grid", "a=1,2", "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "sweep.csv").read_text().splitlines()[0].startswith("a,product")


def test_write_results_is_atomic_and_optional(tmp_path):
    write_results(None, {"x": 1})
    write_results(tmp_path / "r" / "results.json", {"x": 1.5})
    assert json.loads((tmp_path / "r" / "results.json").read_text()) == {"x": 1.5}
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["results.json"]
