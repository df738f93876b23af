"""labkit.parallel and labkit.runs.fit_many: runs at once in forked workers, the same runs as one
after another, errors named, lines forwarded."""
import os

import pytest
import torch

from labkit import parallel
from labkit.data.core import ImageSet
from labkit.runs import GANSpec, fit, fit_many

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="forked workers need Linux")


def _square(x):
    print(f"squaring {x}")
    return {"x": x, "square": x * x}


def _fail(x):
    if x == 2:
        raise ValueError("two is not allowed")
    return x


def _die(x):
    if x == 1:
        os._exit(3)
    return x


def test_run_many_returns_every_result_in_order_and_forwards_lines(capsys):
    out = parallel.run_many(_square, {"c": (3,), "a": (1,), "b": (2,)}, n_workers=2)
    assert list(out) == ["c", "a", "b"]
    assert out["c"] == {"x": 3, "square": 9} and out["b"]["square"] == 4
    printed = capsys.readouterr().out
    assert "3 runs, 2 at a time in worker processes" in printed
    assert {"squaring 1", "squaring 2", "squaring 3"} <= set(printed.splitlines())


def test_run_many_names_the_failed_item_and_its_error():
    with pytest.raises(RuntimeError, match=r"1 of 3 runs failed in worker processes \(2\)") as err:
        parallel.run_many(_fail, {1: (1,), 2: (2,), 3: (3,)}, n_workers=2)
    assert "ValueError: two is not allowed" in str(err.value)
    with pytest.raises(RuntimeError, match="stopped with exit code 3"):
        parallel.run_many(_die, {0: (0,), 1: (1,)}, n_workers=2)


def test_run_many_keeps_going_past_failures_when_asked():
    items = {0: (0,), 1: (1,), 2: (2,), 3: (3,)}
    out = parallel.run_many(_die, items, n_workers=2, keep_going=True)  # 2 and 3 start after 1 died
    assert [out[k] for k in (0, 2, 3)] == [0, 2, 3] and isinstance(out[1], parallel.Failed)
    assert "stopped with exit code 3" in out[1].error
    out = parallel.run_many(_fail, items, n_workers=2, keep_going=True)
    assert "ValueError: two is not allowed" in out[2].error and [out[k] for k in (0, 1, 3)] == [0, 1, 3]


def _threads(x):
    return {"torch": torch.get_num_threads(), "omp": os.environ.get("OMP_NUM_THREADS")}


def test_each_worker_gets_its_share_of_the_cores_for_itself_and_its_processes(monkeypatch):
    monkeypatch.setenv("LABKIT_CPUS", "4")
    out = parallel.run_many(_threads, {1: (1,), 2: (2,)}, n_workers=2)
    assert out == {1: {"torch": 2, "omp": "2"}, 2: {"torch": 2, "omp": "2"}}


def test_on_cpu_says_where_runs_train():
    assert parallel.on_cpu("cpu") and parallel.on_cpu(torch.device("cpu"))
    assert not parallel.on_cpu(torch.device("cuda")) and not parallel.on_cpu(torch.device("mps"))
    assert parallel.on_cpu() == (not torch.cuda.is_available() and not torch.backends.mps.is_available())


def test_one_worker_or_parallel_off_runs_here(capsys):
    assert parallel.run_many(_square, {"a": (2,)}, n_workers=4) == {"a": {"x": 2, "square": 4}}
    assert parallel.run_many(_fail, {1: (1,), 3: (3,)}, parallel=False) == {1: 1, 3: 3}
    assert "worker processes" not in capsys.readouterr().out


def test_workers_and_cores_follow_the_environment(monkeypatch):
    monkeypatch.setenv("LABKIT_CPUS", "3")
    monkeypatch.delenv("LABKIT_WORKERS", raising=False)
    assert parallel.cores() == 3 and parallel.workers() == 3  # one run per core: sharing one costs more than it saves
    assert [parallel.workers(n) for n in (2, 3, 4, 5, 6, 7)] == [3, 3, 4, 5, 3, 3]  # under two rounds: all at once
    monkeypatch.setenv("LABKIT_CPUS", "1")
    assert parallel.workers() == 1  # one after another
    monkeypatch.setenv("LABKIT_WORKERS", "2")
    assert parallel.workers() == 2
    monkeypatch.setenv("LABKIT_WORKERS", "none")
    with pytest.raises(ValueError, match="LABKIT_WORKERS must be a whole number of at least 1; got 'none'"):
        parallel.workers()


def _digits(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ImageSet(torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.randint(0, 2, (n,), generator=g), ["0", "1"], "tiny")


def test_fit_many_trains_the_same_runs_as_fit_and_loads_them(tmp_path, capsys):
    data = _digits()
    specs = {s: GANSpec(f"gan-{s}", "mnist", g_args={"F": 0.1}, d_args={"F": 0.1}, lr_g=1e-3, lr_d=1e-3, batch=16, seed=s)
             for s in (0, 1, 2)}
    many = fit_many({s: (spec, data, 2) for s, spec in specs.items()}, workers=2, device="cpu", run_root=tmp_path / "many")
    assert "3 training runs, 2 at a time" in capsys.readouterr().out
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the workers, so the arithmetic is the same
    try:
        one = {s: fit(spec, data, 2, device="cpu", run_root=tmp_path / "one") for s, spec in specs.items()}
    finally:
        torch.set_num_threads(threads)
    for s in specs:
        assert many[s].epoch == 2 and len(many[s].history) == 2
        assert many[s].checkpoint_dir.name == one[s].checkpoint_dir.name  # the same run, in its usual folder
        for a, b in zip(many[s].G.state_dict().values(), one[s].G.state_dict().values()):
            assert torch.equal(a, b)
    assert not torch.equal(next(iter(many[0].G.parameters())), next(iter(many[1].G.parameters())))
    # asked again, nothing trains: every run is found finished
    again = fit_many({s: (spec, data, 2) for s, spec in specs.items()}, workers=2, device="cpu", run_root=tmp_path / "many")
    assert [t.resumed_from for t in again.values()] == [2, 2, 2]


def test_fit_many_rejects_a_malformed_job(tmp_path):
    with pytest.raises(TypeError, match="job 'a' must be \\(spec, data, epochs\\)"):
        fit_many({"a": ["spec", "data"]}, run_root=tmp_path)


def test_at_once_decides_for_run_many_and_fit_many(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_WORKERS", "2")
    assert parallel.at_once(5) == 2 and parallel.at_once(1) == 1
    assert parallel.at_once(5, n_workers=3) == 3 and parallel.at_once(5, parallel=False) == 1
    # one worker: each run trains here once, not in-process first and then loaded again
    data = _digits()
    spec = GANSpec("gan-one", "mnist", g_args={"F": 0.1}, d_args={"F": 0.1}, batch=16)
    runs = fit_many({"a": (spec, data, 1), "b": (spec, data, 1)}, workers=1, device="cpu", run_root=tmp_path)
    assert [t.resumed_from for t in runs.values()] == [None, 1]  # "b" is the same run as "a": found finished
    assert "worker processes" not in capsys.readouterr().out
