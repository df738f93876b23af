import json
import os
import sys
import time

import nbformat as nbf
import pytest

from labkit.runner import grid_points, main, run_dir_name, sweep, write_results


def tiny_notebook(path):
    """A sweep notebook: parameters a, b; writes a * b; appends a line to ``counter`` when given."""
    nb = nbf.v4.new_notebook()
    nb.cells = [
        nbf.v4.new_code_cell("import labkit.params\nfrom labkit.params import Param, Spec\n_before = labkit.params.snapshot(globals())"),
        nbf.v4.new_code_cell("a = 1\nb = 2.0\ncounter = None\nresults_path = None"),
        nbf.v4.new_code_cell(
            "P = Spec(Param('a', 'a', 1, 1, int), Param('b', 'b', 2.0, 2.0, float),"
            " Param('counter', 'executions', None, None, str, nullable=True),"
            " Param('results_path', 'out', None, None, str, nullable=True)).collect(globals(), _before)\n"
            "if P.counter:\n    open(P.counter, 'a').write(f'{P.a}\\n')\n"
            "import os\nfrom labkit.runner import write_results\n"
            "write_results(P.results_path, {'product': P.a * P.b, 'omp': os.environ.get('OMP_NUM_THREADS')})"),
    ]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbf.write(nb, path)
    return path


def executions(counter):
    return counter.read_text().split() if counter.exists() else []


# Callables for sweeps. On Ray they are pickled by value (see the ray_cluster fixture), as a
# notebook's own functions are.

def product(a, b=1.0, counter=None, flag=None, fail_on=(), interrupt_on=(), sleep_on=(), crash_once=None):
    """a * b, appending ``a`` to ``counter``; fails for ``a`` in ``fail_on`` until ``flag`` exists."""
    if counter:
        with open(counter, "a") as f:
            f.write(f"{a}\n")
    if a in sleep_on:
        time.sleep(120)
    if crash_once and not os.path.exists(crash_once):
        open(crash_once, "w").close()
        os._exit(1)  # the worker process dies: a system failure, for Ray's retries
    if a in fail_on and not (flag and os.path.exists(flag)):
        raise ValueError(f"no flag for a={a}")
    if a in interrupt_on and not (flag and os.path.exists(flag)):
        raise KeyboardInterrupt
    return {"product": a * b}


def threads_seen(a):
    import torch

    return {"torch_threads": torch.get_num_threads(), "omp": os.environ.get("OMP_NUM_THREADS"),
            "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray cluster of 2 CPUs for this module (Ray takes about 10 s to start)."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray
    ray.shutdown()


# -- without Ray -------------------------------------------------------------------------------

def test_grid_points_in_order():
    assert grid_points({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    with pytest.raises(ValueError, match="at least one value"):
        grid_points({"a": []})


def test_write_results_is_atomic_and_optional(tmp_path):
    write_results(None, {"x": 1})
    write_results(tmp_path / "r" / "results.json", {"x": 1.5})
    assert json.loads((tmp_path / "r" / "results.json").read_text()) == {"x": 1.5}
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["results.json"]


def test_run_folders_are_named_after_the_parameters_not_the_order():
    name = run_dir_name("run.ipynb", {"F": 0.5, "D": 2}, {"epochs": 3})
    assert name.startswith("F0.5-D2-") and name == run_dir_name("run.ipynb", {"F": 0.5, "D": 2}, {"epochs": 3})
    assert name != run_dir_name("run.ipynb", {"F": 0.5, "D": 2}, {"epochs": 4})  # a changed setting is a new run
    assert name != run_dir_name(product, {"F": 0.5, "D": 2}, {"epochs": 3})
    assert "/" not in run_dir_name("run.ipynb", {"data_dir": "a/b"})
    with pytest.raises(ValueError, match="same point twice"):
        sweep(product, [{"a": 1}, {"a": 1}], "unused", backend="serial")


def test_without_ray_a_sweep_runs_here_and_ray_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'labkit\[scale\]'"):
        sweep(product, {"a": [1]}, tmp_path, backend="ray")
    with pytest.raises(ImportError, match=r"address was given \(ray://head:10001\), but Ray is not installed"):
        sweep(product, {"a": [1]}, tmp_path, address="ray://head:10001")
    table = sweep(product, {"a": [1, 2]}, tmp_path, fixed={"b": 3.0}, progress=False)
    assert table["product"].tolist() == [3.0, 6.0] and list(table.columns) == ["a", "product", "run_seconds"]
    assert "2 of 2 runs on this machine" in capsys.readouterr().out


def pid_and_square(a, fail_on=(), flag=None):
    if a in fail_on and not os.path.exists(flag):
        raise ValueError(f"a={a} fails")
    import torch

    return {"pid": os.getpid(), "square": a * a, "torch_threads": torch.get_num_threads()}


def test_local_sweep_runs_at_once_in_workers_and_failures_are_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_CPUS", "2")  # two cores: up to four runs at once, sharing them, one thread each
    monkeypatch.setenv("LABKIT_PROGRESS", "text")
    monkeypatch.setattr("labkit.parallel.on_cpu", lambda device="auto": True)
    fixed = {"fail_on": [2], "flag": str(tmp_path / "flag")}
    table = sweep(pid_and_square, {"a": [1, 2, 3]}, tmp_path / "out", fixed, backend="local")
    said = capsys.readouterr().out
    assert "3 of 3 runs on this machine\n[labkit] 3 sweep runs, 3 at a time in worker processes of 1 thread each" in said
    assert "sweep: {'a': 1} done in" in said and "sweep: {'a': 2} failed: ValueError: a=2 fails" in said
    assert said.count("sweep: {'a': 1} done") == 1  # once, from its worker, as it finished
    assert table["square"].tolist()[::2] == [1.0, 9.0] and table["error"].tolist()[1] == "ValueError: a=2 fails"
    assert os.getpid() not in set(table["pid"].dropna()) and set(table["torch_threads"].dropna()) == {1}
    assert len(list((tmp_path / "out").glob("a2-*/error.txt"))) == 1
    (tmp_path / "flag").touch()
    again = sweep(pid_and_square, {"a": [1, 2, 3]}, tmp_path / "out", fixed, backend="local", progress=False)  # 2 runs again
    assert again["square"].tolist() == [1, 4, 9] and "error" not in again
    assert "1 of 3 runs on this machine (one after another); 2 finished earlier, reused" in capsys.readouterr().out


def square_or_die(a):
    if a == 2:
        os._exit(9)  # as a worker killed for memory would end: no exception, no message
    if a == 4:
        raise SystemExit("a=4 quits")  # not an Exception: the point's own handler lets it through
    return {"square": a * a}


def test_local_sweep_keeps_going_when_a_worker_dies(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_CPUS", "2")
    monkeypatch.setenv("LABKIT_WORKERS", "2")  # two at a time: the third point starts after the death
    monkeypatch.setattr("labkit.parallel.on_cpu", lambda device="auto": True)
    table = sweep(square_or_die, {"a": [1, 2, 3]}, tmp_path / "out", backend="local", progress=False)
    assert table["square"].tolist()[::2] == [1.0, 9.0]
    assert "stopped with exit code 9" in table["error"].tolist()[1] and table["error"].isna().tolist() == [True, False, True]
    assert "sweep: {'a': 2} failed: the worker process stopped with exit code 9" in capsys.readouterr().out
    assert "exit code 9" in next((tmp_path / "out").glob("a2-*/error.txt")).read_text()
    quit_ = sweep(square_or_die, {"a": [4, 5]}, tmp_path / "out4", backend="local", progress=False)
    assert quit_["error"].tolist()[0] == "SystemExit: a=4 quits"  # the exception, not "Traceback (...)"
    assert quit_["square"].tolist()[1] == 25.0


def test_local_notebook_sweep_gives_each_kernel_its_share_of_the_cores(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CPUS", "2")
    monkeypatch.setattr("labkit.parallel.on_cpu", lambda device="auto": True)
    nb = tiny_notebook(tmp_path / "tiny.ipynb")
    table = sweep(nb, {"a": [1, 2]}, tmp_path / "out", {"b": 0.5}, backend="local", progress=False)
    assert table["product"].tolist() == [0.5, 1.0] and set(table["omp"]) == {"1"}


def test_serial_failures_are_rows_and_an_interrupted_sweep_continues(tmp_path, capsys):
    counter, flag = tmp_path / "count", tmp_path / "flag"
    fixed = {"counter": str(counter), "flag": str(flag), "fail_on": [2], "interrupt_on": [3]}
    with pytest.raises(KeyboardInterrupt):
        sweep(product, {"a": [1, 2, 3, 4]}, tmp_path / "out", fixed, backend="serial", progress=False)
    assert executions(counter) == ["1", "2", "3"]
    flag.touch()  # now 2 and 3 succeed: only they (and 4, never reached) run again
    table = sweep(product, {"a": [1, 2, 3, 4]}, tmp_path / "out", fixed, backend="serial", progress=False)
    assert executions(counter) == ["1", "2", "3", "2", "3", "4"]
    assert table["a"].tolist() == [1, 2, 3, 4] and table["product"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert "error" not in table and "1 finished earlier, reused" in capsys.readouterr().out


def test_serial_failure_is_reported_with_its_parameters(tmp_path, capsys):
    table = sweep(product, {"a": [1, 2, 3]}, tmp_path, {"fail_on": [2]}, backend="serial", progress=False)
    assert table["a"].tolist() == [1, 2, 3] and table["product"].tolist()[::2] == [1.0, 3.0]
    assert table["error"].tolist()[1] == "ValueError: no flag for a=2" and table["error"].isna().tolist() == [True, False, True]
    out = capsys.readouterr().out
    assert "1 of 3 runs failed" in out and "{'a': 2}: ValueError: no flag for a=2" in out
    assert "no flag for a=2" in next(tmp_path.glob("a2-*/error.txt")).read_text()


@pytest.mark.slow
def test_serial_notebook_sweep_and_a_typo_in_a_parameter(tmp_path):
    nb = tiny_notebook(tmp_path / "tiny.ipynb")
    table = sweep(nb, [{"a": 2}, {"c": 1}, {"a": 3}], tmp_path / "out", fixed={"b": 0.5}, backend="serial", progress=False)
    assert table["product"].tolist()[::2] == [1.0, 1.5]
    assert "unknown parameter(s) c" in table["error"][1]
    assert len(list((tmp_path / "out").glob("a2-*/executed.ipynb"))) == 1


@pytest.mark.slow
def test_command_line_serial(tmp_path, capsys):
    nb = tiny_notebook(tmp_path / "tiny.ipynb")
    assert main([str(nb), "-p", "b", "3.0", "--grid", "a=1,2", "--out", str(tmp_path / "cli"), "--backend", "serial"]) == 0
    assert (tmp_path / "cli" / "sweep.csv").read_text().splitlines()[0] == "a,product,omp,run_seconds"


# -- on a local Ray cluster of 2 CPUs ------------------------------------------------------------

@pytest.mark.slow
def test_ray_notebook_grid_gathers_every_result_and_reuses_finished_runs(ray_cluster, tmp_path):
    nb, counter = tiny_notebook(tmp_path / "tiny.ipynb"), tmp_path / "count"
    fixed = {"b": 0.5, "counter": str(counter)}
    table = sweep(nb, {"a": [1, 2, 3]}, tmp_path / "out", fixed, progress=False)
    assert table["a"].tolist() == [1, 2, 3] and table["product"].tolist() == [0.5, 1.0, 1.5]
    assert list(table.columns) == ["a", "product", "omp", "run_seconds"] and set(table["omp"]) == {"1"}
    assert sorted(executions(counter)) == ["1", "2", "3"]
    assert len(list((tmp_path / "out").glob("a*-*/executed.ipynb"))) == 3
    again = sweep(nb, {"a": [3, 1, 2, 4]}, tmp_path / "out", fixed, progress=False)  # 4 is new
    assert again["product"].tolist() == [1.5, 0.5, 1.0, 2.0]
    assert sorted(executions(counter)) == ["1", "2", "3", "4"]


@pytest.mark.slow
def test_ray_failing_run_is_reported_and_the_rest_go_on(ray_cluster, tmp_path):
    nb = tiny_notebook(tmp_path / "tiny.ipynb")
    table = sweep(nb, [{"a": 1}, {"c": 1}, {"a": 2}], tmp_path / "out", progress=False)
    assert table["product"].tolist()[::2] == [2.0, 4.0] and table["error"].isna().tolist() == [True, False, True]
    assert "unknown parameter(s) c" in table["error"][1]


@pytest.mark.slow
def test_ray_interrupted_sweep_continues_with_the_missing_points(ray_cluster, tmp_path):
    counter, flag = tmp_path / "count", tmp_path / "flag"
    fixed = {"counter": str(counter), "flag": str(flag), "fail_on": [2, 4]}
    first = sweep(product, {"a": [1, 2, 3, 4]}, tmp_path / "out", fixed, progress=False)
    assert first["error"].notna().tolist() == [False, True, False, True]
    flag.touch()
    second = sweep(product, {"a": [1, 2, 3, 4]}, tmp_path / "out", fixed, progress=False)
    assert second["product"].tolist() == [1.0, 2.0, 3.0, 4.0] and "error" not in second
    assert sorted(executions(counter)) == ["1", "2", "2", "3", "4", "4"]  # only 2 and 4 ran again


@pytest.mark.slow
def test_ray_timeout_cancels_one_run(ray_cluster, tmp_path):
    start = time.perf_counter()
    table = sweep(product, {"a": [1, 2, 3]}, tmp_path, {"sleep_on": [2]}, timeout=5, progress=False)
    assert time.perf_counter() - start < 60
    assert table["product"].tolist()[::2] == [1.0, 3.0] and table["error"][1] == "TimeoutError: stopped after 5 s"


@pytest.mark.slow
def test_ray_retries_a_run_whose_worker_died(ray_cluster, tmp_path):
    counter = tmp_path / "count"
    table = sweep(product, [{"a": 1}], tmp_path / "out", {"counter": str(counter), "crash_once": str(tmp_path / "crashed")},
                  retries=1, progress=False)
    assert table["product"].tolist() == [1.0] and executions(counter) == ["1", "1"]


@pytest.mark.slow
def test_ray_runs_get_their_threads(ray_cluster, tmp_path):
    table = sweep(threads_seen, {"a": [1, 2]}, tmp_path, threads=1, progress=False)
    assert table["torch_threads"].tolist() == [1, 1] and table["omp"].tolist() == ["1", "1"]


@pytest.mark.slow
def test_command_line_grid_on_ray(ray_cluster, tmp_path, capsys):
    nb = tiny_notebook(tmp_path / "tiny.ipynb")
    assert main([str(nb), "-p", "b", "3.0", "--grid", "a=1,2", "--out", str(tmp_path / "cli"), "--timeout", "120"]) == 0
    assert (tmp_path / "cli" / "sweep.csv").read_text().splitlines()[0] == "a,product,omp,run_seconds"
    said = capsys.readouterr().out
    assert "2 of 2 runs on Ray (running Ray instance: 2 CPUs" in said and "), 2 at once; each run 1 CPU thread" in said


@pytest.mark.parametrize("cpus, workers, expected", [("1", None, 1), (None, None, None), ("1", 2, 2)])
def test_a_local_ray_cluster_takes_the_cpus_it_was_given(monkeypatch, cpus, workers, expected):
    """course.py runs two chapters side by side with LABKIT_CPUS=1 each: a sweep inside one must
    not start a Ray cluster on every core (workers, when given, still decide)."""
    import ray

    from labkit import runner

    seen = {}
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: seen.update(kw))
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": expected or 2})
    if cpus is None:
        monkeypatch.delenv("LABKIT_CPUS", raising=False)
    else:
        monkeypatch.setenv("LABKIT_CPUS", cpus)
    runner._connect(None, workers, 1)
    assert seen["num_cpus"] == expected


def test_a_notebook_run_from_a_chapter_writes_no_console_lines_of_its_own(tmp_path, monkeypatch):
    # course.py sets LABKIT_CONSOLE for a chapter's kernel; a sweep worker started from that kernel
    # writes its terminal there, which is the chapter's output, so it must not get the variable
    nb = nbf.v4.new_notebook()
    nb.cells = [nbf.v4.new_code_cell("results_path = None"),
                nbf.v4.new_code_cell("import os\nfrom labkit.runner import write_results\n"
                                     "write_results(results_path, {'console': os.environ.get('LABKIT_CONSOLE', 'unset')})")]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbf.write(nb, tmp_path / "w.ipynb")
    monkeypatch.setenv("LABKIT_CONSOLE", "004:30")
    table = sweep(tmp_path / "w.ipynb", [{}], tmp_path / "out", backend="serial", progress=False)
    assert table["console"].tolist() == ["unset"]
    assert os.environ["LABKIT_CONSOLE"] == "004:30"  # the chapter's own is kept
