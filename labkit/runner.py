"""Run chapter notebooks with papermill, alone or as a sweep over a grid of parameters.

A notebook that takes part in sweeps has a ``results_path`` parameter and writes a small JSON
of its results there; :func:`sweep` runs every combination and gathers those JSONs into one
table. From a shell::

    python -m labkit.runner notebooks/mnist_gan_run.ipynb -p F 1 -p D 2
    python -m labkit.runner notebooks/mnist_gan_run.ipynb --grid F=0.25,0.5 --grid D=1,2 --out runs/grid
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Sequence


def run_notebook(notebook: str | Path, output: str | Path, parameters: dict[str, Any] | None = None,
                 cwd: str | Path | None = None, timeout: int | None = None) -> Path:
    """Execute ``notebook`` with ``parameters`` into ``output`` (papermill); return ``output``.

    The notebook's own parameter check rejects unknown names, so a typo fails at once.
    """
    import papermill as pm

    notebook, output = Path(notebook), Path(output)
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    output.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LABKIT_PROGRESS", "text")  # the executed copy gets epoch lines, not bars
    quiet = logging.getLogger("papermill").level
    logging.getLogger("papermill").setLevel(logging.ERROR)  # its type-inference notes are not for readers
    try:
        pm.execute_notebook(str(notebook), str(output), parameters=parameters or {},
                            cwd=str(cwd or notebook.parent), progress_bar=False, execution_timeout=timeout,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    finally:
        logging.getLogger("papermill").setLevel(quiet)
    return output


def grid_points(grid: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of a grid ``{name: [values]}``, in order."""
    if not grid or any(len(v) == 0 for v in grid.values()):
        raise ValueError(f"a grid needs at least one value per parameter; got {grid}")
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def sweep(notebook: str | Path, points: Sequence[dict[str, Any]] | dict[str, Sequence[Any]], out_dir: str | Path,
          fixed: dict[str, Any] | None = None, progress: bool = True):
    """Run ``notebook`` once per point (a list of parameter dicts, or a grid) and return a
    pandas table: one row per run, its parameters, then its results JSON."""
    import pandas as pd

    if isinstance(points, dict):
        points = grid_points(points)
    out_dir = Path(out_dir)
    rows = []
    iterator = points
    if progress and os.environ.get("LABKIT_PROGRESS", "bar") == "bar":
        from tqdm.auto import tqdm

        iterator = tqdm(points, desc="sweep")
    for i, point in enumerate(iterator):
        tag = "-".join(f"{k}{v}" for k, v in point.items())
        results = (out_dir / f"{i:03d}-{tag}" / "results.json").resolve()
        params = {**(fixed or {}), **point, "results_path": str(results)}
        start = time.perf_counter()
        run_notebook(notebook, results.with_name("executed.ipynb"), params)
        if not results.is_file():
            raise RuntimeError(f"{notebook} ran with {point} but wrote no results to {results}")
        rows.append({**point, **json.loads(results.read_text()), "run_seconds": time.perf_counter() - start})
        if progress and os.environ.get("LABKIT_PROGRESS", "bar") == "text":
            print(f"sweep {i + 1}/{len(points)}: {point} done in {rows[-1]['run_seconds']:.0f} s", flush=True)
    return pd.DataFrame(rows)


def write_results(path: str | Path | None, results: dict[str, Any]) -> None:
    """Write a notebook's results JSON (atomically); does nothing when ``path`` is None."""
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=float))
    os.replace(tmp, path)


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
    args = ap.parse_args(argv)
    fixed = {k: _value(v) for k, v in args.p}
    if args.grid:
        grid = {}
        for item in args.grid:
            if "=" not in item:
                ap.error(f"--grid takes NAME=V1,V2,...; got {item!r}")
            name, values = item.split("=", 1)
            grid[name] = [_value(v) for v in values.split(",")]
        table = sweep(args.notebook, grid, args.out, fixed)
        table.to_csv(Path(args.out) / "sweep.csv", index=False)
        print(table.to_string())
    else:
        out = Path(args.out) / (Path(args.notebook).stem + "-executed.ipynb")
        print(run_notebook(args.notebook, out, fixed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
