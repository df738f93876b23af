"""Run chapter notebooks with papermill, alone or as a sweep over a grid of parameters, here or on Ray.

A sweep runs one *task* per point of a grid and gathers the results into one pandas table. A
task is either a notebook with a ``results_path`` parameter that writes a small JSON of its
results there (:func:`write_results`), run by papermill, or a Python callable ``fn(**fixed,
**point) -> dict`` (a chapter's recipe over conditions × seeds, say).

Where runs go (``backend``):

- ``"ray"``: on a Ray cluster (``pip install 'labkit[scale]'``): ``address=`` / ``--address`` /
  ``$RAY_ADDRESS`` joins an existing one, else ``ray.init()`` starts a local one. Each run is a Ray
  task that asks for one GPU when the cluster has GPUs (Ray gives each its own through
  ``CUDA_VISIBLE_DEVICES``) and ``threads`` CPUs, which are also its torch/OpenMP threads. The
  default when an address is given or Ray is already running.
- ``"local"``: on this machine's CPU cores, one run per core at once, or all of them when they
  are fewer than twice the cores (:func:`labkit.parallel.workers`), in worker processes of
  :mod:`labkit.parallel` (one after another on a GPU machine, or where processes cannot be forked). The default otherwise: the same runs at once as a local Ray
  cluster, without the 6 to 12 s that starting one takes on 2 cores (``benchmarks/bench_sweep.py``: the quick grid's sweep
  took 21.4 s here against 25.8 s on Ray plus its 6.3 s start, and 25.0 s one after another).
- ``"serial"``: one after another in this process.

Every point has its own folder under the sweep's ``out`` folder, named after its parameters (and
a short hash of them and of the fixed ones); a finished run leaves ``results.json`` and
``run.json`` there and is not run again when the sweep is repeated, so an interrupted sweep
continues where it stopped. A failed run is a row with an ``error`` (and ``error.txt`` in its
folder), also when its worker process dies (killed, out of memory); the others go on, and it runs
again next time. From a shell::

    python -m labkit.runner notebooks/mnist_gan_run.ipynb -p F 1 -p D 2
    python -m labkit.runner notebooks/mnist_gan_run.ipynb --grid F=0.25,0.5 --grid D=1,2 --out runs/grid
    python -m labkit.runner notebooks/mnist_gan_run.ipynb --grid F=1,2,3 --out runs/grid --address ray://head:10001
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import json
import logging
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

INSTALL_RAY = "pip install 'labkit[scale]'"


def run_notebook(notebook: str | Path, output: str | Path, parameters: dict[str, Any] | None = None,
                 cwd: str | Path | None = None, timeout: float | None = None) -> Path:
    """Execute ``notebook`` with ``parameters`` into ``output`` (papermill); return ``output``.

    The notebook's own parameter check rejects unknown names, so a typo fails at once.
    ``timeout`` bounds each cell, in seconds.
    """
    import papermill as pm

    notebook, output = Path(notebook), Path(output)
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    output.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LABKIT_PROGRESS", "text")  # the executed copy gets epoch lines, not bars
    # a notebook run from a chapter (a sweep's worker) writes no terminal progress of its own: its
    # kernel's terminal is the chapter kernel's output, where the lines would land in the page
    console = os.environ.pop("LABKIT_CONSOLE", None)
    quiet = logging.getLogger("papermill").level
    logging.getLogger("papermill").setLevel(logging.ERROR)  # its type-inference notes are not for readers
    try:
        pm.execute_notebook(str(notebook), str(output), parameters=parameters or {},
                            cwd=str(cwd or notebook.parent), progress_bar=False,
                            execution_timeout=None if timeout is None else int(timeout),
                            # CRITICAL: papermill's shutdown interrupts the kernel, which may log
                            # "KeyboardInterrupt caught in kernel" at ERROR; from a sweep's worker
                            # that line lands in the chapter's page. Cell errors reach the notebook.
                            extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    finally:
        logging.getLogger("papermill").setLevel(quiet)
        if console is not None:
            os.environ["LABKIT_CONSOLE"] = console
    return output


def grid_points(grid: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of a grid ``{name: [values]}``, in order."""
    if not grid or any(len(v) == 0 for v in grid.values()):
        raise ValueError(f"a grid needs at least one value per parameter; got {grid}")
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def write_results(path: str | Path | None, results: dict[str, Any]) -> None:
    """Write a notebook's results JSON (atomically); does nothing when ``path`` is None."""
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=float))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# One point: its folder, and running it (in this process or inside a Ray task)

def _key_value(obj: Any) -> Any:
    """What a parameter that JSON cannot hold contributes to a run's key: a fingerprint of its
    data where it has one (ImageSet, tensors, arrays), else its type."""
    if hasattr(obj, "fingerprint"):
        return obj.fingerprint()
    if hasattr(obj, "detach"):  # a torch tensor
        from labkit.data.core import tensor_fingerprint

        return tensor_fingerprint(obj)
    if hasattr(obj, "tobytes"):  # a numpy array
        return hashlib.sha1(obj.tobytes()).hexdigest()[:12]
    return type(obj).__qualname__


def task_name(task: str | Path | Callable) -> str:
    """A task's name in run keys: the notebook's file name or the callable's module.qualname."""
    if callable(task):
        return f"{getattr(task, '__module__', '')}.{getattr(task, '__qualname__', type(task).__name__)}"
    return Path(task).name


def run_dir_name(task: str | Path | Callable, point: dict[str, Any], fixed: dict[str, Any] | None = None) -> str:
    """The folder name of one point: its parameters (``F0.5-D2``) and a short hash of the task,
    the point and the fixed parameters, so a changed setting never reuses an old result."""
    tag = re.sub(r"[^A-Za-z0-9._+=-]+", "_", "-".join(f"{k}{v}" for k, v in point.items()))[:60] or "run"
    key = json.dumps({"task": task_name(task), "point": point, "fixed": fixed or {}}, sort_keys=True,
                     default=_key_value)
    return f"{tag}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def _set_threads(threads: int | None, torch_too: bool) -> None:
    """Give a run ``threads`` CPU threads: OpenMP's and MKL's (a notebook's kernel inherits them) and,
    for a callable, torch's in this process."""
    if threads is None:
        return
    n = max(1, int(threads))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    if torch_too and "torch" in sys.modules:  # a torch imported later reads OMP_NUM_THREADS
        sys.modules["torch"].set_num_threads(n)


def _execute(task: str | Callable, point: dict[str, Any], fixed: dict[str, Any], folder: str,
             timeout: float | None = None, threads: int | None = None, clock=None, key: str | None = None
             ) -> tuple[dict, float]:
    """Run one point; return its results dict and its seconds (the body of a Ray task, or of a serial run)."""
    if clock is not None:
        clock.start.remote(key)
    start = time.perf_counter()
    results = _run_point(task, point, fixed, Path(folder), timeout, threads)
    return results, time.perf_counter() - start


def _run_point(task, point, fixed, folder: Path, timeout, threads) -> dict:
    _set_threads(threads, torch_too=callable(task))
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    results.unlink(missing_ok=True)  # a failed earlier attempt must not pass for this one's output
    if callable(task):
        out = task(**{**fixed, **point})
        if not isinstance(out, dict):
            raise TypeError(f"{task_name(task)} returned {type(out).__name__}; a sweep's callable returns a dict")
        try:
            json.dumps(out, default=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{task_name(task)} returned results that JSON cannot hold ({exc}); "
                            "return numbers, strings, lists and dicts") from None
        return out
    run_notebook(task, folder / "executed.ipynb", {**fixed, **point, "results_path": str(results)}, timeout=timeout)
    if not results.is_file():
        raise RuntimeError(f"{Path(task).name} ran with {point} but wrote no results to {results}")
    return json.loads(results.read_text())


class _Clock:
    """When each run started, on the cluster's own clock (a Ray actor), for per-run timeouts."""

    def __init__(self):
        self.started: dict[str, float] = {}

    def start(self, key: str) -> None:
        self.started[key] = time.time()

    def elapsed(self) -> dict[str, float]:
        now = time.time()
        return {k: now - t for k, t in self.started.items()}


def _finished(folder: Path) -> tuple[dict, float] | None:
    """A finished run's results and seconds, or None."""
    try:
        return json.loads((folder / "results.json").read_text()), json.loads((folder / "run.json").read_text())["run_seconds"]
    except (OSError, ValueError, KeyError):
        return None


def _short_error(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)  # Ray wraps a task's exception; its cause is the original
    if isinstance(cause, BaseException):
        exc = cause
    if getattr(exc, "ename", None):  # papermill: the notebook's own exception
        return f"{exc.ename}: {exc.evalue}"
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class _Sweep:
    """Bookkeeping shared by both backends: folders, reuse, rows, progress."""

    def __init__(self, task, points, out_dir, fixed, progress):
        self.task, self.points, self.fixed = task, points, fixed
        self.folders = [Path(out_dir).resolve() / run_dir_name(task, p, fixed) for p in points]
        if len(set(self.folders)) < len(self.folders):
            raise ValueError("a sweep lists the same point twice")
        self.rows: list[dict | None] = [None] * len(points)
        self.errors: list[int] = []
        mode = os.environ.get("LABKIT_PROGRESS", "bar") if progress else "off"
        self.text = mode == "text"
        self.bar = None
        if mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=len(points), desc="sweep")

    def reuse(self) -> list[int]:
        """Fill in the finished runs; return the indices still to run."""
        todo = []
        for i, folder in enumerate(self.folders):
            done = _finished(folder)
            if done is None:
                todo.append(i)
            else:
                self.rows[i] = {**self.points[i], **done[0], "run_seconds": done[1]}
                if self.bar is not None:
                    self.bar.update()
        return todo

    def done(self, i: int, results: dict, seconds: float) -> None:
        folder = self.folders[i]
        write_results(folder / "results.json", results)  # the driver's copy (the task may run on another node)
        write_results(folder / "run.json", {"point": self.points[i], "task": task_name(self.task),
                                            "run_seconds": seconds, "finished": time.strftime("%Y-%m-%d %H:%M:%S")})
        (folder / "error.txt").unlink(missing_ok=True)
        self.rows[i] = {**self.points[i], **results, "run_seconds": seconds}
        self._tick(i, f"done in {seconds:.0f} s")

    def failed(self, i: int, error: str, detail: str, seconds: float) -> None:
        folder = self.folders[i]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "error.txt").write_text(f"{self.points[i]}\n{detail}\n")
        self.rows[i] = {**self.points[i], "run_seconds": seconds, "error": error}
        self.errors.append(i)
        self._tick(i, f"failed: {error}")

    def _tick(self, i: int, what: str) -> None:
        if self.bar is not None:
            self.bar.update()
        if self.text:
            n = sum(r is not None for r in self.rows)
            print(f"sweep {n}/{len(self.points)}: {self.points[i]} {what}", flush=True)

    def table(self):
        import pandas as pd

        if self.bar is not None:
            self.bar.close()
        if self.errors:
            print(f"sweep: {len(self.errors)} of {len(self.points)} runs failed (they run again when the sweep is repeated):")
            for i in self.errors:
                print(f"  {self.points[i]}: {self.rows[i]['error']}  [{self.folders[i] / 'error.txt'}]")
        columns: list[str] = []
        for row in sorted((r for r in self.rows if r is not None), key=lambda r: "error" in r):
            columns += [c for c in row if c not in columns and c not in ("run_seconds", "error")]
        columns += ["run_seconds"] + (["error"] if self.errors else [])
        return pd.DataFrame([r for r in self.rows if r is not None], columns=columns)


# ---------------------------------------------------------------------------------------------
# The two backends

def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


def _ray_running() -> bool:
    ray = sys.modules.get("ray")
    return bool(ray is not None and ray.is_initialized())


def _run_serial(sw: _Sweep, todo: list[int], timeout: float | None) -> None:
    for i in todo:
        start = time.perf_counter()
        try:
            results, seconds = _execute(sw.task, sw.points[i], sw.fixed, str(sw.folders[i]), timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - a failed run is reported, the others go on
            sw.failed(i, _short_error(exc), traceback.format_exc(), time.perf_counter() - start)
        else:
            sw.done(i, results, seconds)


def _local_point(task, point, fixed, folder, timeout, threads) -> dict:
    """One point in a worker process: its results and seconds, or its error (the others go on)."""
    start = time.perf_counter()
    try:
        results, seconds = _execute(task, point, fixed, folder, timeout=timeout, threads=threads)
    except Exception as exc:  # noqa: BLE001 - a failed run is reported, the others go on
        print(f"sweep: {point} failed: {_short_error(exc)}", flush=True)
        return {"error": _short_error(exc), "detail": traceback.format_exc(), "seconds": time.perf_counter() - start}
    print(f"sweep: {point} done in {seconds:.0f} s", flush=True)  # as it happens, from the worker
    return {"results": results, "seconds": seconds}


def _run_local(sw: _Sweep, todo: list[int], timeout: float | None, workers: int | None, say) -> None:
    from labkit import parallel

    n = parallel.at_once(len(todo), workers, parallel=parallel.on_cpu())
    say("on this machine" + (" (one after another)" if n == 1 else ""))  # run_many says how, with more than one
    # a worker's threads (torch's, and OpenMP's for a notebook's kernel) are run_many's share of the cores
    items = {i: (sw.task, sw.points[i], sw.fixed, str(sw.folders[i]), timeout, None) for i in todo}
    # keep_going: a point whose worker dies (killed, out of memory) is a failed row, the others go on
    results = parallel.run_many(_local_point, items, n_workers=n, what="sweep runs", keep_going=True)
    sw.text = False  # each run said how it went as it finished; a bar still counts them
    for i, out in results.items():
        if isinstance(out, parallel.Failed):  # the worker died, or raised what _local_point does not catch
            # the text's last line: how the process stopped, or the exception after its traceback
            short = out.error.strip().splitlines()[-1] if out.error.strip() else "the worker failed"
            print(f"sweep: {sw.points[i]} failed: {short}", flush=True)
            sw.failed(i, short, out.error, float("nan"))
        elif "error" in out:
            sw.failed(i, out["error"], out["detail"], out["seconds"])
        else:
            sw.done(i, out["results"], out["seconds"])


def _connect(address: str | None, workers: int | None, threads: int) -> tuple[Any, bool, str]:
    """Ray, whether this call started it, and a few words on where runs go."""
    import ray

    address = address or os.environ.get("RAY_ADDRESS") or None
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, logging_level=logging.ERROR)
        else:  # a new local cluster, sized so that at most `workers` runs go at once; by default all
            # cores, or the LABKIT_CPUS this process was given (course.py runs chapters side by side)
            cpus = workers * threads if workers else (int(os.environ["LABKIT_CPUS"]) if os.environ.get("LABKIT_CPUS") else None)
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, logging_level=logging.ERROR)
        started = True
    res = ray.cluster_resources()
    where = f"cluster at {address}" if address else ("local cluster" if started else "running Ray instance")
    return ray, started, f"{where}: {res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs"


def _run_ray(sw: _Sweep, todo: list[int], *, address, workers, threads, gpus, timeout, retries, say) -> None:
    ray, started, where = _connect(address, workers, threads)
    try:
        have = ray.cluster_resources()
        if gpus is None:
            gpus = 1 if have.get("GPU", 0) >= 1 else 0
        slots = int(have.get("CPU", 1) // threads)
        if gpus:
            slots = min(slots, int(have.get("GPU", 0) // gpus))
        at_once = max(1, min(slots, workers or len(todo), len(todo)))  # how many workers run these runs
        say(f"on Ray ({where}), {at_once} at once; each run {threads} CPU thread{'s' if threads > 1 else ''}"
            + (f" and {gpus:g} GPU" if gpus else ""))
        remote = ray.remote(_execute).options(num_cpus=threads, num_gpus=gpus, max_retries=retries)
        task, fixed = ray.put(sw.task), ray.put(sw.fixed)
        clock = ray.remote(num_cpus=0)(_Clock).remote() if timeout else None
        queue, running, submitted = list(todo), {}, {}
        limit = workers or len(todo)  # Ray's pattern for bounding the tasks in flight
        try:
            while queue or running:
                while queue and len(running) < limit:
                    i = queue.pop(0)
                    ref = remote.remote(task, sw.points[i], fixed, str(sw.folders[i]), timeout, threads, clock, str(i))
                    running[ref], submitted[i] = i, time.perf_counter()
                ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0 if timeout else None)
                for ref in ready:
                    i = running.pop(ref)
                    try:
                        results, seconds = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - reported; the others go on
                        sw.failed(i, _short_error(exc), str(exc), time.perf_counter() - submitted[i])
                    else:
                        sw.done(i, results, seconds)
                if timeout and running:
                    elapsed = ray.get(clock.elapsed.remote())
                    for ref, i in list(running.items()):
                        if elapsed.get(str(i), 0) > timeout:
                            ray.cancel(ref, force=True)
                            del running[ref]
                            sw.failed(i, f"TimeoutError: stopped after {timeout:g} s", f"the run took more than {timeout:g} s",
                                      elapsed[str(i)])
        except BaseException:  # an interrupted sweep stops its runs; what finished is kept
            for ref in running:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()


def sweep(task: str | Path | Callable[..., dict], points: Sequence[dict[str, Any]] | dict[str, Sequence[Any]],
          out_dir: str | Path, fixed: dict[str, Any] | None = None, *, backend: str | None = None,
          address: str | None = None, workers: int | None = None, threads: int = 1, gpus: float | None = None,
          timeout: float | None = None, retries: int = 1, rerun: bool = False, progress: bool = True):
    """Run ``task`` once per point and return a pandas table, one row per point in order: its
    parameters, its results, ``run_seconds`` (and ``error`` when a run failed).

    ``task``: a notebook (papermill; it gets ``fixed``, the point and ``results_path``) or a
    callable ``fn(**fixed, **point) -> dict`` of JSON-able results (on Ray, define it at module level
    or in the notebook; ``fixed`` goes to the cluster once). ``points``: a list of parameter dicts or a
    grid ``{name: [values]}``. ``out_dir``: one folder per point, named after its parameters; finished
    runs there are reused unless ``rerun``.

    ``backend``: ``"ray"``, ``"local"`` or ``"serial"`` (see the module's notes); default: Ray when
    ``address`` or ``$RAY_ADDRESS`` is given or Ray is already running, else local. ``"local"``:
    ``workers`` runs at once at most (default: :func:`labkit.parallel.workers`, one per core, or
    all when fewer than twice the cores). On Ray: ``address`` of an existing cluster (``"auto"``,
    ``"ray://host:10001"``; default ``$RAY_ADDRESS``, else a local cluster); ``workers``: at most this many runs at once (a local
    cluster gets ``workers × threads`` CPUs; default: all cores, or $LABKIT_CPUS); ``threads``: CPUs and torch threads
    per run; ``gpus``: GPUs per run (default 1 when the cluster has GPUs, else 0); ``retries``: Ray's
    ``max_retries`` for runs lost to a crashed worker or node. ``timeout``: seconds per run (on Ray
    the run is cancelled past it; papermill also stops any cell that runs longer, the only limit in
    serial mode).
    """
    if isinstance(points, dict):
        points = grid_points(points)
    points = [dict(p) for p in points]
    fixed = dict(fixed or {})
    note = ""
    if backend is None:
        backend = "ray" if (address or os.environ.get("RAY_ADDRESS") or _ray_running()) else "local"
        if backend == "ray" and not ray_available():
            raise ImportError(f"a Ray address was given ({address or os.environ.get('RAY_ADDRESS')}), but Ray is not "
                              f"installed: {INSTALL_RAY}")
    if backend not in ("ray", "local", "serial"):
        raise ValueError(f"backend must be 'ray', 'local' or 'serial'; got {backend!r}")
    if backend == "ray" and not ray_available():
        raise ImportError(f"backend='ray' needs Ray: {INSTALL_RAY} (or backend='serial' runs one after another)")

    sw = _Sweep(task, points, out_dir, fixed, progress)
    todo = list(range(len(points))) if rerun else sw.reuse()
    reused = len(points) - len(todo)

    def say(how: str) -> None:
        print(f"sweep: {len(todo)} of {len(points)} runs {how}"
              + (f"; {reused} finished earlier, reused" if reused else "") + note, flush=True)

    if not todo:
        if points:
            say("to do")
    elif backend in ("serial", "local"):
        if timeout and callable(task):
            note += "; the timeout binds callables only on Ray"
        if backend == "serial":
            say("one after another (serial)")
            _run_serial(sw, todo, timeout)
        else:
            _run_local(sw, todo, timeout, workers, say)
    else:
        _run_ray(sw, todo, address=address, workers=workers, threads=threads, gpus=gpus, timeout=timeout,
                 retries=retries, say=say)
    return sw.table()


# ---------------------------------------------------------------------------------------------
# Command line

def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m labkit.runner", description=__doc__.split("\n\n")[0])
    ap.add_argument("notebook")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="a parameter")
    ap.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2", help="sweep over these values")
    ap.add_argument("--out", default="runs/sweep", help="output folder")
    ap.add_argument("--backend", choices=["ray", "local", "serial"], default=None,
                    help="ray (default with --address or $RAY_ADDRESS), local (at once on this machine's cores, the "
                         "default otherwise) or serial (one run after another)")
    ap.add_argument("--address", default=None,
                    help="an existing Ray cluster: 'auto', 'ray://host:10001' (default: $RAY_ADDRESS, else a local one)")
    ap.add_argument("--workers", type=int, default=None,
                    help="at most this many runs at once (default: one per core; locally all of them when "
                         "fewer than twice the cores)")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads per run on Ray (default 1)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds a run may take")
    ap.add_argument("--rerun", action="store_true", help="run every point again, even those finished earlier")
    args = ap.parse_args(argv)
    fixed = {k: _value(v) for k, v in args.p}
    if args.grid:
        grid = {}
        for item in args.grid:
            if "=" not in item:
                ap.error(f"--grid takes NAME=V1,V2,...; got {item!r}")
            name, values = item.split("=", 1)
            grid[name] = [_value(v) for v in values.split(",")]
        table = sweep(args.notebook, grid, args.out, fixed, backend=args.backend, address=args.address,
                      workers=args.workers, threads=args.threads, timeout=args.timeout, rerun=args.rerun)
        Path(args.out).mkdir(parents=True, exist_ok=True)
        table.to_csv(Path(args.out) / "sweep.csv", index=False)
        print(table.to_string())
        return 1 if "error" in table else 0
    out = Path(args.out) / (Path(args.notebook).stem + "-executed.ipynb")
    print(run_notebook(args.notebook, out, fixed, timeout=args.timeout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
